package sms

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// Bind reads a carrier callback into dst, a pointer to a struct of string
// fields tagged `form:"name"` or `query:"name"`: from the query of a GET,
// from the form body of a POST (urlencoded or multipart). A field given
// twice takes its first value; a missing one stays "". A body that is not a
// form is EINVALID, answered 400 with one line.
//
// Fiber's BodyParser would do, but through a general reflection decoder
// that was a tenth of an inbound message's CPU; callbacks only ever carry
// a handful of strings.
func Bind(c *fiber.Ctx, provider string, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	fields := formFields(v.Type())
	if c.Method() == fiber.MethodGet {
		setFields(v, fields, c.Request().URI().QueryArgs().Peek)
		return nil
	}
	ct := strings.ToLower(string(c.Request().Header.ContentType()))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		setFields(v, fields, c.Request().PostArgs().Peek)
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		form, err := c.MultipartForm()
		if err != nil {
			return domain.Errorf(domain.EINVALID, "%s callback: the form cannot be read: %v", provider, err)
		}
		setFields(v, fields, func(k string) []byte {
			if vs := form.Value[k]; len(vs) > 0 {
				return []byte(vs[0])
			}
			return nil
		})
	default:
		return domain.Errorf(domain.EINVALID, "%s callback: expected a form body (application/x-www-form-urlencoded), got %q", provider, ct)
	}
	return nil
}

// formField is one string field of a callback struct and its form name.
type formField struct {
	index int
	name  string
}

var formTypes sync.Map // reflect.Type -> []formField

// formFields lists t's tagged fields once per type.
func formFields(t reflect.Type) []formField {
	if fs, ok := formTypes.Load(t); ok {
		return fs.([]formField)
	}
	var fs []formField
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("form")
		if name == "" {
			name = f.Tag.Get("query")
		}
		if name == "" {
			continue
		}
		if f.Type.Kind() != reflect.String {
			panic(fmt.Sprintf("sms.Bind: field %s.%s is not a string", t.Name(), f.Name))
		}
		fs = append(fs, formField{i, name})
	}
	formTypes.Store(t, fs)
	return fs
}

// setFields copies each field's value: string() copies, so nothing keeps
// fasthttp's request buffer.
func setFields(v reflect.Value, fields []formField, peek func(string) []byte) {
	for _, f := range fields {
		v.Field(f.index).SetString(string(peek(f.name)))
	}
}
