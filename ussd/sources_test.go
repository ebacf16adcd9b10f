package ussd_test

import (
	"context"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ussd"
)

// open_tasks lists the caller's workshop's tasks and those of no workshop,
// however many newer tasks other workshops have: the workshop is chosen
// before the list is cut to a page.
func TestOpenTasksAreTheCallersWorkshops(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws, err := e.svc.Workshops.FindWorkshops(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var other int64
	for _, w := range ws {
		if w.Name == "Shanti Colony Centre" {
			other = w.ID
		}
	}
	for i := 0; i < 120; i++ {
		if err := e.svc.Tasks.CreateTask(ctx, &domain.Task{Titles: map[string]string{"en": "Fold towels", "hi": "तौलिये मोड़ना"}, RateMinor: 10, Quantity: 10, WorkshopID: other}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Tasks.CreateTask(ctx, &domain.Task{Titles: map[string]string{"en": "Sort buttons", "hi": "बटन छांटना"}, RateMinor: 20, Quantity: 30}); err != nil {
		t.Fatal(err)
	}
	const loose = "+919800000055" // an active worker of no workshop
	if err := e.svc.Members.CreateMember(ctx, &domain.Member{Phone: loose, Name: "Kamla", Lang: "en", Role: domain.RoleWorker, Status: domain.MemberActive}); err != nil {
		t.Fatal(err)
	}
	// tasks walks every page of the caller's open tasks.
	tasks := func(phone string) string {
		t.Helper()
		var all []string
		text := ""
		for _, in := range []string{"1", "98", "98", "98"} {
			if text == "" {
				text = in
			} else {
				text += "*" + in
			}
			resp, err := e.eng.Handle(ctx, ussd.Request{SessionID: "tasks" + phone, Phone: phone, ServiceCode: "*384#", Text: text})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, resp.Text)
			if !strings.Contains(resp.Text, "98 More") {
				break
			}
		}
		return strings.Join(all, "\n")
	}
	for _, c := range []struct {
		phone     string
		want, not []string
	}{
		{phoneAsha, []string{"Sort buttons", "Stitch cloth bags", "Attach buttons to shirts"}, []string{"Fold towels"}},
		{loose, []string{"Sort buttons"}, []string{"Fold towels", "Stitch cloth bags"}},
	} {
		got := tasks(c.phone)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s's open tasks lack %q:\n%s", c.phone, w, got)
			}
		}
		for _, n := range c.not {
			if strings.Contains(got, n) {
				t.Errorf("%s's open tasks show another workshop's %q:\n%s", c.phone, n, got)
			}
		}
	}
}

// Menus written before sign_up_training had its not_active outcome still
// pass the check, and a member who is not active goes where they send one
// who is not registered.
func TestMenusFromBeforeNotActive(t *testing.T) {
	src := strings.Replace(string(ussd.BuiltinSource().Data), "      started: training_started\n      not_active: not_active\n", "      started: training_started\n", 1)
	if src == string(ussd.BuiltinSource().Data) {
		t.Fatal("the built-in menus no longer route sign_up_training's not_active as this test expects")
	}
	e := newEnv(t)
	m, probs := ussd.Parse([]ussd.Source{{Name: "old.yaml", Data: []byte(src)}}, e.eng.Options())
	if len(probs) > 0 {
		t.Fatalf("menus from before not_active refused: %v", probs)
	}
	e.newEngine(m)
	ctx := context.Background()
	var resp ussd.Response
	for i, text := range []string{"", "4", "4*1", "4*1*1"} {
		var err error
		if resp, err = e.eng.Handle(ctx, ussd.Request{SessionID: "old", Phone: phoneRekha, ServiceCode: "*384#", Text: text}); err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
	}
	if resp.End || !strings.HasPrefix(resp.Text, "Karyashala\n1. Open tasks") {
		t.Fatalf("a pending member signing up on old menus: %+v, want the home menu (not_registered's route, start)", resp)
	}
}
