package console

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// simPhone is the simulator's default number: a valid Indian mobile number
// reserved for testing the menus, so its answers are easy to tell apart.
const simPhone = "+919999900001"

// simData is the phone's state. It travels in the form's hidden fields, so
// the server keeps nothing between hops except what the USSD engine keeps.
type simData struct {
	Phone    string
	Lang     string
	Session  string
	Text     string // every input so far joined by "*"
	Screen   string
	Live     bool // the session goes on (CON)
	Ended    bool // the session ended (END)
	Error    string
	NoEngine bool
	Steps    []simStep
}

// simStep is one hop of the transcript shown beside the phone.
type simStep struct {
	Input  string
	Screen string
}

func (h *Console) simulatorPage(c *fiber.Ctx) error {
	d := simData{Phone: simPhone, Lang: h.o.Languages[0], NoEngine: h.dial() == nil}
	return h.render(c, 0, "simulator", "Phone simulator", d)
}

func (h *Console) dial() DialFunc {
	if h.d.Dial == nil {
		return nil
	}
	return h.d.Dial()
}

// simulate runs one hop: "dial" starts a new session with empty text, "send"
// appends the typed input, "hangup" ends the drawing without calling the
// engine (as a phone's red key does; the carrier session then times out).
func (h *Console) simulate(c *fiber.Ctx) error {
	d := simData{
		Phone:   strings.TrimSpace(c.FormValue("phone")),
		Lang:    c.FormValue("lang"),
		Session: c.FormValue("session"),
		Text:    c.FormValue("text"),
	}
	d.Steps = decodeSteps(c.Request().PostArgs().PeekMulti("step_in"), c.Request().PostArgs().PeekMulti("step_screen"))
	dial := h.dial()
	if dial == nil {
		d.NoEngine = true
		return h.render(c, fiber.StatusServiceUnavailable, "simulator", "Phone simulator", d)
	}
	if !contains(h.o.Languages, d.Lang) {
		d.Lang = h.o.Languages[0]
	}
	phone, err := domain.ParsePhone(d.Phone, h.o.Region)
	if err != nil {
		d.Error = domain.ErrorMessage(err)
		return h.render(c, fiber.StatusUnprocessableEntity, "simulator", "Phone simulator", d)
	}
	d.Phone = phone
	input := ""
	switch c.FormValue("op") {
	case "dial":
		// The engine picks the language a phone chose last; choosing one here
		// is the same as choosing it in the menu.
		if err := h.d.Members.SetLanguage(h.ctx(c), phone, d.Lang); err != nil {
			return h.fail(c, err)
		}
		d.Session = "console-sim-" + randomID()[:16]
		d.Text = ""
		d.Steps = nil
		input = h.o.ShortCode
	case "send":
		input = strings.TrimSpace(c.FormValue("input"))
		if d.Session == "" {
			d.Error = "Dial " + h.o.ShortCode + " first."
			return h.render(c, fiber.StatusUnprocessableEntity, "simulator", "Phone simulator", d)
		}
		// The first reply after dialing is the whole text; later ones are
		// appended with "*", as Africa's Talking does.
		if len(d.Steps) <= 1 {
			d.Text = input
		} else {
			d.Text += "*" + input
		}
	case "hangup":
		d.Session, d.Text, d.Screen = "", "", ""
		d.Ended = true
		d.Steps = append(d.Steps, simStep{Input: "(hang up)"})
		return h.render(c, 0, "simulator", "Phone simulator", d)
	default:
		d.Error = "Use the phone's Dial, Send or Hang up keys."
		return h.render(c, fiber.StatusUnprocessableEntity, "simulator", "Phone simulator", d)
	}
	answer, err := dial(h.ctx(c), d.Session, phone, h.o.ShortCode, d.Text)
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			return h.fail(c, err)
		}
		d.Error = domain.ErrorMessage(err)
		return h.render(c, fiber.StatusUnprocessableEntity, "simulator", "Phone simulator", d)
	}
	switch {
	case strings.HasPrefix(answer, "CON "):
		d.Screen, d.Live = strings.TrimPrefix(answer, "CON "), true
	case strings.HasPrefix(answer, "END "):
		d.Screen, d.Ended = strings.TrimPrefix(answer, "END "), true
	default:
		d.Screen, d.Ended = answer, true
		d.Error = "The USSD engine answered without CON or END, which a carrier would refuse."
	}
	d.Steps = append(d.Steps, simStep{Input: input, Screen: d.Screen})
	if d.Ended {
		d.Session = ""
	}
	return h.render(c, 0, "simulator", "Phone simulator", d)
}

// maxSteps bounds the transcript carried in the form.
const maxSteps = 30

func decodeSteps(ins, screens [][]byte) []simStep {
	n := min(len(ins), len(screens), maxSteps)
	out := make([]simStep, 0, n)
	for i := len(ins) - n; i < len(ins) && i < len(screens); i++ {
		out = append(out, simStep{Input: string(ins[i]), Screen: string(screens[i])})
	}
	return out
}

type menusData struct {
	Status *MenuStatus
	Valid  bool
}

func (h *Console) menusPage(c *fiber.Ctx) error {
	var d menusData
	if h.d.Menus != nil {
		d.Status = h.d.Menus()
	}
	if d.Status != nil {
		d.Valid = d.Status.Err == ""
		for _, f := range d.Status.Files {
			if len(f.Problems) > 0 {
				d.Valid = false
			}
		}
	}
	return h.render(c, 0, "menus", "Menus", d)
}
