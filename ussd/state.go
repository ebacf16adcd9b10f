package ussd

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// encode returns st as encoding/json would write it, byte for byte, without
// its reflection: this runs on every hop. TestEncodeState and
// FuzzEncodeState hold it to json.Marshal.
func (st *state) encode() []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"s":`...)
	b = appendString(b, st.Screen)
	if st.Page != 0 {
		b = append(b, `,"p":`...)
		b = strconv.AppendInt(b, int64(st.Page), 10)
	}
	if len(st.History) > 0 {
		b = append(b, `,"h":[`...)
		for i, f := range st.History {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"s":`...)
			b = appendString(b, f.Screen)
			if f.Page != 0 {
				b = append(b, `,"p":`...)
				b = strconv.AppendInt(b, int64(f.Page), 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(st.Vars) > 0 {
		b = append(b, `,"v":`...)
		b = appendMap(b, st.Vars)
	}
	if len(st.Items) > 0 {
		b = append(b, `,"i":[`...)
		for i, it := range st.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMap(b, it)
		}
		b = append(b, ']')
	}
	b = append(b, `,"l":`...)
	b = appendString(b, st.Lang)
	b = append(b, `,"t":`...)
	b = appendString(b, st.Text)
	for _, f := range [...]struct{ key, val string }{{`,"e":`, st.Err}, {`,"r":`, st.Resume}, {`,"o":`, st.Home}} {
		if f.val != "" {
			b = append(b, f.key...)
			b = appendString(b, f.val)
		}
	}
	if st.More {
		b = append(b, `,"m":true`...)
	}
	return append(b, '}')
}

// appendMap writes m with its keys sorted, as encoding/json does.
func appendMap[M ~map[string]string](b []byte, m M) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var buf [32]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// appendString writes s as a JSON string. Text that encoding/json writes
// as it is (printable ASCII but for <, >, & and the quotes, and valid UTF-8
// other than U+2028 and U+2029) is copied; anything else is left to
// encoding/json, so the escapes are its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshalled(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshalled(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshalled(b []byte, s string) []byte {
	j, _ := json.Marshal(s) // a string always marshals
	return append(b, j...)
}
