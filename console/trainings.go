package console

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// demandWindow is how far back requested topics are counted.
const demandWindow = 90 * 24 * time.Hour

// trainingForm is the create-training form; a topic's "Plan a training"
// button fills it in.
type trainingForm struct {
	Titles     map[string]string
	Topic      string
	Date       string // 2006-01-02
	Time       string // 15:04
	Place      string
	Capacity   string
	WorkshopID int64
}

type trainingsData struct {
	Upcoming  []*domain.Training
	Demand    []*domain.TopicDemand
	Workshops []*domain.Workshop
	Form      trainingForm
	FormError string
	Since     time.Time
}

func (h *Console) trainingsPage(c *fiber.Ctx) error {
	f := trainingForm{Titles: map[string]string{}, Topic: strings.TrimSpace(c.Query("topic")), Capacity: "20", Time: "10:00"}
	f.Date = h.now().Local().AddDate(0, 0, 7).Format("2006-01-02")
	if f.Topic != "" {
		for _, l := range h.o.Languages {
			f.Titles[l] = f.Topic
		}
	}
	return h.drawTrainings(c, 0, f, "")
}

func (h *Console) drawTrainings(c *fiber.Ctx, status int, f trainingForm, formErr string) error {
	ctx := h.ctx(c)
	d := trainingsData{Form: f, FormError: formErr, Since: h.now().Add(-demandWindow)}
	var err error
	if d.Upcoming, err = h.d.Trainings.UpcomingTrainings(ctx); err != nil {
		return h.fail(c, err)
	}
	if d.Demand, err = h.d.Trainings.TopicDemand(ctx, d.Since); err != nil {
		return h.fail(c, err)
	}
	if d.Workshops, err = h.d.Workshops.FindWorkshops(ctx); err != nil {
		return h.fail(c, err)
	}
	if len(d.Workshops) > 0 {
		if d.Form.WorkshopID == 0 {
			d.Form.WorkshopID = d.Workshops[0].ID
		}
		if d.Form.Place == "" {
			d.Form.Place = d.Workshops[0].Name
		}
	}
	return h.render(c, status, "trainings", "Trainings", d)
}

func (h *Console) createTraining(c *fiber.Ctx) error {
	f := trainingForm{
		Titles:   h.formTitles(c),
		Topic:    strings.TrimSpace(c.FormValue("topic")),
		Date:     strings.TrimSpace(c.FormValue("date")),
		Time:     strings.TrimSpace(c.FormValue("time")),
		Place:    strings.TrimSpace(c.FormValue("place")),
		Capacity: strings.TrimSpace(c.FormValue("capacity")),
	}
	f.WorkshopID, _ = strconv.ParseInt(c.FormValue("workshop_id"), 10, 64)
	t, err := h.trainingFromForm(f)
	if err == nil {
		err = h.d.Trainings.CreateTraining(h.ctx(c), t)
	}
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			return h.fail(c, err)
		}
		return h.drawTrainings(c, fiber.StatusUnprocessableEntity, f, domain.ErrorMessage(err))
	}
	return h.redirect(c, Prefix+"/trainings", nil, fmt.Sprintf("Training “%s” on %s created for %d people.", t.Title(h.o.Languages[0]), t.StartsAt.Local().Format("2 Jan 2006 15:04"), t.Capacity))
}

func (h *Console) trainingFromForm(f trainingForm) (*domain.Training, error) {
	if f.Time == "" {
		f.Time = "10:00"
	}
	starts, err := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+f.Time, time.Local)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "date and time: %q %q is not a date like 2026-12-05 and a time like 10:00", f.Date, f.Time)
	}
	if !starts.After(h.now()) {
		return nil, domain.Errorf(domain.EINVALID, "date and time: %s has passed; choose a time in the future", starts.Format("2 Jan 2006 15:04"))
	}
	capacity, err := strconv.ParseInt(f.Capacity, 10, 64)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "capacity: %q is not a whole number of places", f.Capacity)
	}
	t := &domain.Training{Titles: map[string]string{}, StartsAt: starts, Place: f.Place, Capacity: capacity, WorkshopID: f.WorkshopID, Topic: f.Topic}
	for l, s := range f.Titles {
		if s != "" {
			t.Titles[l] = s
		}
	}
	if err := t.Validate(h.o.Languages); err != nil {
		return nil, err
	}
	return t, nil
}

// fill is the share of a training's places taken, 0..100, for the bar.
func fill(t *domain.Training) int64 {
	if t.Capacity <= 0 {
		return 0
	}
	return min(100, t.SignedUp*100/t.Capacity)
}
