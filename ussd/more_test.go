package ussd_test

import (
	"context"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ussd"
)

// On a prompt of two pages 98 shows the second; on its last page 98 is an
// answer like any other.
func TestMoreOnAPromptOfTwoPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	title := strings.Repeat("कढ़ाई ", 9) + "काम" // 57 letters: the prompt needs two pages in Hindi
	task := &domain.Task{Titles: map[string]string{"en": "Long embroidery", "hi": title}, RateMinor: 100, Quantity: 500}
	if err := e.svc.Tasks.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	text := ""
	hop := func(in string) ussd.Response {
		t.Helper()
		if text == "" {
			text = in
		} else {
			text += "*" + in
		}
		resp, err := e.eng.Handle(ctx, ussd.Request{SessionID: "more", Phone: phoneSunita, ServiceCode: "*384#", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if _, err := e.eng.Handle(ctx, ussd.Request{SessionID: "more", Phone: phoneSunita, ServiceCode: "*384#"}); err != nil {
		t.Fatal(err)
	}
	hop("1")
	first := hop("1") // the newest task
	if !strings.Contains(first.Text, "कढ़ाई") || !strings.Contains(first.Text, "98 आगे") {
		t.Fatalf("the prompt should start on a page with more after it: %q", first.Text)
	}
	second := hop("98")
	if second.End || second.Text == first.Text || strings.Contains(second.Text, "98 आगे") {
		t.Fatalf("98 on the first page should show the last: %q", second.Text)
	}
	if done := hop("98"); !done.End || !strings.Contains(done.Text, "98") {
		t.Fatalf("98 on the last page should take 98 pieces: %q", done.Text)
	}
	m, err := e.svc.Members.MemberByPhone(ctx, phoneSunita)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.Tasks.AssignmentsByMember(ctx, m.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	for _, x := range a {
		if x.TaskID == task.ID {
			got = x.Quantity
		}
	}
	if got != 98 {
		t.Fatalf("Sunita holds %d pieces of the task, want 98", got)
	}
}
