package africastalking

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// parseBoth reads body with parseForm and with c.BodyParser.
func parseBoth(t testing.TB, ctype, body string) (fast, slow request, fastOK bool, slowErr error) {
	t.Helper()
	app := fiber.New(fiber.Config{Immutable: true})
	app.Post("/", func(c *fiber.Ctx) error {
		fastOK = fast.parseForm(c)
		slowErr = c.BodyParser(&slow)
		return nil
	})
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if _, err := app.Test(req, -1); err != nil {
		t.Fatal(err)
	}
	return
}

// ambiguous reports whether body spells one field two ways (sessionId and
// SESSIONID), when BodyParser's choice depends on map order.
func ambiguous(body string) bool {
	var args fasthttp.Args
	args.Parse(body)
	seen := map[string]string{}
	amb := false
	args.VisitAll(func(kb, _ []byte) {
		k := string(kb)
		l := strings.ToLower(strings.ToUpper(k))
		if s, ok := seen[l]; ok && s != k {
			amb = true
		}
		seen[l] = k
	})
	return amb
}

func checkSame(t *testing.T, ctype, body string) {
	fast, slow, ok, err := parseBoth(t, ctype, body)
	if !ok {
		return // BodyParser is used as it is
	}
	if err != nil {
		t.Fatalf("%q: parseForm accepted what BodyParser rejects: %v", body, err)
	}
	if fast != slow {
		t.Fatalf("%q: parseForm read %+v, BodyParser %+v", body, fast, slow)
	}
}

func TestParseFormMatchesBodyParser(t *testing.T) {
	for _, body := range []string{
		"sessionId=ATUid_1&serviceCode=%2A384%23&phoneNumber=%2B919800000001&networkCode=40410&text=1%2A2",
		"sessionId=a&sessionId=b&text=&text=1",
		"SESSIONID=x&PhoneNumber=+919800000001&TEXT=a+b",
		"sessionId=&phoneNumber=1&text=%FF%FE",
		"sessionId=x&other=1&sessionId.x=2&text.=3&=4",
		"sessionId[]=x&phoneNumber=1",
		"sessionId[=x",
		"sessionId=a,b&text=1,2",
		"",
		"&&==&",
	} {
		checkSame(t, formType, body)
	}
	if _, _, ok, _ := parseBoth(t, "application/x-www-form-urlencoded; charset=utf-8", "sessionId=x"); ok {
		t.Error("parseForm took a content type with parameters; BodyParser should")
	}
	if _, _, ok, _ := parseBoth(t, formType, "sessionId[]=x"); ok {
		t.Error("parseForm took a bracketed name; BodyParser should")
	}
}

func FuzzParseForm(f *testing.F) {
	f.Add("sessionId=ATUid_1&serviceCode=%2A384%23&phoneNumber=%2B919800000001&networkCode=40410&text=1%2A2")
	f.Add("sessionId=a&sessionId=b&text=&text=1")
	f.Add("sessionId[a]=x&phoneNumber=1")
	f.Fuzz(func(t *testing.T, body string) {
		if ambiguous(body) {
			return
		}
		checkSame(t, formType, body)
	})
}
