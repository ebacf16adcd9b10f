package storage

import (
	"context"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

// Caller answers numbers it has never stored without a read; a member
// created or a language chosen after that is found at once, and after the
// database is opened again.
func TestCallerFindsNumbersStoredAfterFirstUse(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ms := NewMemberService(db)
	if err := ms.CreateMember(ctx, &domain.Member{Phone: "+919800000001", Name: "Asha"}); err != nil {
		t.Fatal(err)
	}
	caller := func(ms *MemberService, phone string) (string, string) {
		t.Helper()
		m, lang, err := ms.Caller(ctx, phone)
		if err != nil {
			t.Fatal(err)
		}
		if m == nil {
			return "", lang
		}
		return m.Name, lang
	}
	if name, _ := caller(ms, "+919800000001"); name != "Asha" {
		t.Fatalf("member stored before first use: %q", name)
	}
	if name, lang := caller(ms, "+919800000002"); name != "" || lang != "" {
		t.Fatalf("unknown number: %q %q", name, lang)
	}
	if err := ms.CreateMember(ctx, &domain.Member{Phone: "+919800000002", Name: "Bina"}); err != nil {
		t.Fatal(err)
	}
	if err := ms.SetLanguage(ctx, "+919800000003", "hi"); err != nil {
		t.Fatal(err)
	}
	check := func(ms *MemberService) {
		t.Helper()
		if name, _ := caller(ms, "+919800000002"); name != "Bina" {
			t.Fatalf("member created after first use: %q", name)
		}
		if name, lang := caller(ms, "+919800000003"); name != "" || lang != "hi" {
			t.Fatalf("language chosen after first use: %q %q", name, lang)
		}
	}
	check(ms)
	check(NewMemberService(reopen(t, db)))
}
