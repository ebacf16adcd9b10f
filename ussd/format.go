package ussd

import (
	"strconv"
	"time"
)

var monthNames = map[string][]string{
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	"hi": {"जन", "फ़र", "मार्च", "अप्रै", "मई", "जून", "जुला", "अग", "सित", "अक्टू", "नव", "दिस"},
}

// FormatDate writes a short day and time for a phone screen: "5 Dec 10:00".
func FormatDate(t time.Time, lang string) string {
	names, ok := monthNames[lang]
	if !ok {
		names = monthNames["en"]
	}
	return strconv.Itoa(t.Day()) + " " + names[t.Month()-1] + " " + t.Format("15:04")
}
