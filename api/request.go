package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// decode reads the request body as exactly one JSON object into v, refusing
// unknown fields, so a typo in a field name is an error rather than a
// silently ignored setting. Every failure is EINVALID (415 for a body that is
// not JSON at all) with a message naming the field or the problem.
func decode(c *fiber.Ctx, v any) error {
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		return fiber.NewError(fiber.StatusUnsupportedMediaType,
			fmt.Sprintf("request body must be JSON, not %s; send Content-Type: application/json", ct))
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Errorf(domain.EINVALID, "request body: a JSON object is required, e.g. %s", example(v))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return domain.Errorf(domain.EINVALID, "request body: unexpected data after the JSON object; send one object")
	}
	return nil
}

// jsonError turns a decoding error into a message a person can act on.
func jsonError(err error, v any) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return domain.Errorf(domain.EINVALID, "request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.EINVALID, "request body is not valid JSON: it ends before the object is closed")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return domain.Errorf(domain.EINVALID, "request body: expected a JSON object, got %s", typ.Value)
		}
		return domain.Errorf(domain.EINVALID, "%s: expected %s, got %s", typ.Field, describe(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return domain.Errorf(domain.EINVALID, "request body: unknown field %s; the fields are %s", name, strings.Join(fields(v), ", "))
	}
	return domain.Errorf(domain.EINVALID, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// describe names a Go type the way a JSON user thinks of it.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

// fields lists the JSON field names of the struct v points to.
func fields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// example shows the shape of a body: its field names.
func example(v any) string {
	fs := fields(v)
	for i, f := range fs {
		fs[i] = strconv.Quote(f) + ": ..."
	}
	return "{" + strings.Join(fs, ", ") + "}"
}

// PathParam is the path parameter name unescaped: Fiber gives the segment
// as sent, and clients and browsers send "#C1042" as %23C1042 and "C 1042"
// as C%201042. A segment that is not valid escaping is given as sent.
func PathParam(c *fiber.Ctx, name string) string {
	raw := c.Params(name)
	if u, err := url.PathUnescape(raw); err == nil {
		return u
	}
	return raw
}

// pathID reads a positive integer path parameter; what names the thing for
// the message ("task", "member").
func pathID(c *fiber.Ctx, what string) (int64, error) {
	raw := c.Params("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.EINVALID, "id: %q is not a %s id; ids are positive whole numbers", raw, what)
	}
	return id, nil
}

// queryLimit reads ?limit=, 0 (the store's default page) when absent.
func queryLimit(c *fiber.Ctx) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 500 {
		return 0, domain.Errorf(domain.EINVALID, "limit: %q is not a page size; use a whole number from 1 to 500", raw)
	}
	return n, nil
}

// queryID reads an optional positive id from the query string.
func queryID(c *fiber.Ctx, name string) (int64, error) {
	raw := c.Query(name)
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.EINVALID, "%s: %q is not an id; ids are positive whole numbers", name, raw)
	}
	return id, nil
}

// queryBool reads an optional true/false from the query string.
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	raw := c.Query(name)
	if raw == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, domain.Errorf(domain.EINVALID, "%s: %q is not true or false", name, raw)
	}
	return b, nil
}

// queryEnum reads an optional query value that must be one of allowed.
func queryEnum(c *fiber.Ctx, name string, allowed ...string) (string, error) {
	raw := c.Query(name)
	if raw == "" || slices.Contains(allowed, raw) {
		return raw, nil
	}
	return "", domain.Errorf(domain.EINVALID, "%s: %q is not one of %s", name, raw, strings.Join(allowed, ", "))
}

// oneOf checks a body field against its allowed values.
func oneOf(field, value string, allowed ...string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return domain.Errorf(domain.EINVALID, "%s: %q is not one of %s", field, value, strings.Join(allowed, ", "))
}

// parseWhen reads a date (YYYY-MM-DD, its midnight in the programme's
// zone) or an RFC 3339 time. With endOfDay a bare date means the end of
// that day, so that from=2026-11-01&to=2026-11-30 covers the whole of
// November where the programme is.
func (a *API) parseWhen(field, raw string, endOfDay bool) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, raw, a.Location); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	return time.Time{}, domain.Errorf(domain.EINVALID, "%s: %q is not a date; write YYYY-MM-DD (2026-11-30) or RFC 3339 (2026-11-30T18:00:00+05:30)", field, raw)
}

// parseTime reads a required RFC 3339 time from a body field.
func parseTime(field, raw string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, domain.Errorf(domain.EINVALID, "%s: %q is not a time; write RFC 3339 with the offset, e.g. 2026-12-05T10:00:00+05:30", field, raw)
	}
	return t, nil
}

// phone parses a number a person typed into E.164 with the configured
// region, the error naming the field.
func (a *API) phone(field, raw string) (string, error) {
	p, err := domain.ParsePhone(raw, a.Region)
	if err != nil {
		return "", domain.Errorf(domain.EINVALID, "%s: %s", field, domain.ErrorMessage(err))
	}
	return p, nil
}

// member finds the member a body names by id or by phone (exactly one).
func (a *API) member(ctx context.Context, id int64, phone string) (*domain.Member, error) {
	switch {
	case id != 0 && phone != "":
		return nil, domain.Errorf(domain.EINVALID, "member_id, phone: give one of them, not both")
	case id < 0:
		return nil, domain.Errorf(domain.EINVALID, "member_id: %d is not a member id; ids are positive whole numbers", id)
	case id > 0:
		return a.Members.MemberByID(ctx, id)
	case phone != "":
		p, err := a.phone("phone", phone)
		if err != nil {
			return nil, err
		}
		m, err := a.Members.MemberByPhone(ctx, p)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "phone: no member has the number %s; add her with POST /api/v1/members first", p)
		}
		return m, err
	}
	return nil, domain.Errorf(domain.EINVALID, "member_id: required (or phone), to say which member")
}

// lang checks a language code against the configured ones; "" means the
// default language.
func (a *API) lang(field, l string) (string, error) {
	if l == "" {
		return a.Languages[0], nil
	}
	if !slices.Contains(a.Languages, l) {
		return "", domain.Errorf(domain.EINVALID, "%s: %q is not a configured language; use one of %s", field, l, strings.Join(a.Languages, ", "))
	}
	return l, nil
}

// titles checks titles in a create or update: only configured languages.
func (a *API) titles(field string, ts map[string]string) error {
	for l := range ts {
		if !slices.Contains(a.Languages, l) {
			return domain.Errorf(domain.EINVALID, "%s.%s: %q is not a configured language; use %s", field, l, l, strings.Join(a.Languages, ", "))
		}
	}
	return nil
}

// workshopExists gives a clear error for a workshop id that names nothing.
func (a *API) workshopExists(ctx context.Context, field string, id int64) error {
	if id == 0 {
		return nil
	}
	if id < 0 {
		return domain.Errorf(domain.EINVALID, "%s: %d is not a workshop id; ids are positive whole numbers", field, id)
	}
	if _, err := a.Workshops.WorkshopByID(ctx, id); err != nil {
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return domain.Errorf(domain.EINVALID, "%s: there is no workshop %d; GET /api/v1/workshops lists them", field, id)
		}
		return err
	}
	return nil
}
