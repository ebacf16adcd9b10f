package ussd

import (
	"testing"

	"github.com/karyashala/karyashala/domain"
)

func testOptions() Options {
	return Options{
		Languages: []string{"en", "hi"},
		Limits:    Limits{MaxGSM7: 182, MaxUCS2: 80},
		Registry:  Builtins(domain.Services{}, BuiltinOptions{Currency: "INR", Languages: []string{"en", "hi"}}),
	}
}

func TestBuiltinMenusAreValid(t *testing.T) {
	if _, probs := LoadBuiltin(testOptions()); len(probs) > 0 {
		t.Fatalf("built-in menus have problems:\n%v", probs)
	}
}
