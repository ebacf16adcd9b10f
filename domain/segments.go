package domain

// GSM 03.38 basic character set and its extension table; extension
// characters cost two units (escape + char).
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
const gsm7Ext = "^{}\\[~]|€\f"

var gsm7Units = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Ext {
		m[r] = 2
	}
	return m
}()

// gsm7ASCII is gsm7Units for the bytes below 0x80, where nearly every USSD
// page and SMS lives: an array read instead of a map lookup per character
// (every USSD page is measured on every hop). 0 is not in the alphabet.
var gsm7ASCII = func() (t [0x80]int8) {
	for r, u := range gsm7Units {
		if r < 0x80 {
			t[r] = int8(u)
		}
	}
	return t
}()

// Encodings of an SMS.
const (
	EncodingGSM7 = "gsm7"
	EncodingUCS2 = "ucs2"
)

// GSM7Len returns the GSM-7 septets text needs and whether every character
// is in the GSM-7 alphabet (extension characters count two).
func GSM7Len(text string) (units int, ok bool) {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x80 {
			u := gsm7ASCII[c]
			if u == 0 {
				return 0, false
			}
			units += int(u)
			continue
		}
		return gsm7LenFrom(text, i, units)
	}
	return units, true
}

// gsm7LenFrom is GSM7Len from text[i:], past units counted already.
func gsm7LenFrom(text string, i, units int) (int, bool) {
	for _, r := range text[i:] {
		u, in := gsm7Units[r]
		if !in {
			return 0, false
		}
		units += u
	}
	return units, true
}

// SMSSegments counts the segments a carrier bills for text. GSM-7 fits 160
// units in one segment, or 153 per segment when split, and an extension
// character (two units) is never cut across two segments. Anything else is
// UCS-2: 70 code units in one segment, 67 per segment when split, and a
// character outside the BMP (a surrogate pair) is never cut either.
func SMSSegments(text string) (segments int, encoding string) {
	if text == "" {
		return 1, EncodingGSM7
	}
	if n, ok := GSM7Len(text); ok {
		if n <= 160 {
			return 1, EncodingGSM7
		}
		return pack(text, 153, func(r rune) int { return gsm7Units[r] }), EncodingGSM7
	}
	ucs2 := func(r rune) int {
		if r > 0xFFFF {
			return 2
		}
		return 1
	}
	n := 0
	for _, r := range text {
		n += ucs2(r)
	}
	if n <= 70 {
		return 1, EncodingUCS2
	}
	return pack(text, 67, ucs2), EncodingUCS2
}

// pack counts the segments of size units that text fills when no character
// may straddle two segments.
func pack(text string, size int, units func(rune) int) int {
	segments, used := 1, 0
	for _, r := range text {
		u := units(r)
		if used+u > size {
			segments++
			used = 0
		}
		used += u
	}
	return segments
}
