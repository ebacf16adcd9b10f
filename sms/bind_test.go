package sms_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/sms"
)

type bindForm struct {
	From string `form:"from"`
	Text string `form:"text"`
	ID   string `query:"id"`
	skip string
}

func TestBind(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: api.ErrorHandler, Immutable: true})
	app.All("/", func(c *fiber.Ctx) error {
		var f bindForm
		if err := sms.Bind(c, "test", &f); err != nil {
			return err
		}
		return c.SendString(f.From + "|" + f.Text + "|" + f.ID + "|" + f.skip)
	})
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.WriteField("from", "+919812345678")
	w.WriteField("text", "नमस्ते")
	w.Close()
	cases := []struct {
		label, method, target, ctype, body string
		status                             int
		want                               string
	}{
		{"query", "GET", "/?from=%2B919812345678&text=hello+there&id=x1", "", "", 200, "+919812345678|hello there|x1|"},
		{"urlencoded", "POST", "/", fiber.MIMEApplicationForm, "from=%2B91&text=a%26b&id=7", 200, "+91|a&b|7|"},
		{"charset parameter", "POST", "/", fiber.MIMEApplicationForm + "; charset=utf-8", "text=x", 200, "|x||"},
		{"first of two values", "POST", "/", fiber.MIMEApplicationForm, "text=first&text=second", 200, "|first||"},
		{"missing fields stay empty", "POST", "/", fiber.MIMEApplicationForm, "other=1", 200, "|||"},
		{"multipart", "POST", "/", w.FormDataContentType(), mp.String(), 200, "+919812345678|नमस्ते||"},
		{"json is refused", "POST", "/", fiber.MIMEApplicationJSON, `{"text":"x"}`, 400, "expected a form body"},
		{"no content type", "POST", "/", "", "text=x", 400, "expected a form body"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.status || !strings.Contains(string(got), c.want) {
			t.Errorf("%s: %d %q, want %d %q", c.label, resp.StatusCode, got, c.status, c.want)
		}
	}
}
