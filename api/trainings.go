package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// demandWindowDays is how far back training demand is counted by default.
const demandWindowDays = 90

// listTrainings lists trainings still to come, soonest first.
func (a *API) listTrainings(c *fiber.Ctx) error {
	ts, err := a.Trainings.UpcomingTrainings(ctx(c))
	if err != nil {
		return err
	}
	return list(c, ts, "")
}

// newTraining is the body of POST /trainings.
type newTraining struct {
	Titles     map[string]string `json:"titles"`
	StartsAt   string            `json:"starts_at"`
	Place      string            `json:"place"`
	Capacity   int64             `json:"capacity"`
	WorkshopID int64             `json:"workshop_id"`
	Topic      string            `json:"topic"`
}

func (a *API) createTraining(c *fiber.Ctx) error {
	var b newTraining
	if err := decode(c, &b); err != nil {
		return err
	}
	t := &domain.Training{
		Titles:     trimAll(b.Titles),
		Place:      strings.TrimSpace(b.Place),
		Capacity:   b.Capacity,
		WorkshopID: b.WorkshopID,
		Topic:      strings.TrimSpace(b.Topic),
	}
	if err := a.titles("titles", t.Titles); err != nil {
		return err
	}
	if b.StartsAt != "" {
		s, err := parseTime("starts_at", b.StartsAt)
		if err != nil {
			return err
		}
		if !s.After(a.Now()) {
			return domain.Errorf(domain.EINVALID, "starts_at: %s is already past; a training is announced before it starts", b.StartsAt)
		}
		t.StartsAt = s.UTC()
	}
	if err := t.Validate(a.Languages); err != nil {
		return err
	}
	if err := a.workshopExists(ctx(c), "workshop_id", t.WorkshopID); err != nil {
		return err
	}
	if err := a.Trainings.CreateTraining(ctx(c), t); err != nil {
		return err
	}
	return created(c, t)
}

func (a *API) getTraining(c *fiber.Ctx) error {
	id, err := pathID(c, "training")
	if err != nil {
		return err
	}
	t, err := a.Trainings.TrainingByID(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// memberBody names a member by id or phone.
type memberBody struct {
	MemberID int64  `json:"member_id"`
	Phone    string `json:"phone"`
}

// signUp books a member on a training; never beyond its capacity.
func (a *API) signUp(c *fiber.Ctx) error {
	id, err := pathID(c, "training")
	if err != nil {
		return err
	}
	var b memberBody
	if err := decode(c, &b); err != nil {
		return err
	}
	m, err := a.member(ctx(c), b.MemberID, b.Phone)
	if err != nil {
		return err
	}
	t, err := a.Trainings.SignUp(ctx(c), id, m.ID)
	if err != nil {
		return notActive(err, m)
	}
	return created(c, t)
}

// topicBody is the body of POST /training-requests.
type topicBody struct {
	MemberID int64  `json:"member_id"`
	Phone    string `json:"phone"`
	Topic    string `json:"topic"`
}

// requestTraining records a topic a worker asked a leader for in person.
func (a *API) requestTraining(c *fiber.Ctx) error {
	var b topicBody
	if err := decode(c, &b); err != nil {
		return err
	}
	b.Topic = strings.TrimSpace(b.Topic)
	switch {
	case b.Topic == "":
		return domain.Errorf(domain.EINVALID, "topic: required, e.g. \"tailoring\"")
	case len([]rune(b.Topic)) > 100:
		return domain.Errorf(domain.EINVALID, "topic: at most 100 characters")
	}
	m, err := a.member(ctx(c), b.MemberID, b.Phone)
	if err != nil {
		return err
	}
	r, err := a.Trainings.RequestTraining(ctx(c), m.ID, b.Topic)
	if err != nil {
		return err
	}
	return created(c, r)
}

// trainingDemand ranks requested topics since ?since= (default: the last 90
// days), so leaders launch the trainings women ask for.
func (a *API) trainingDemand(c *fiber.Ctx) error {
	since := a.Now().AddDate(0, 0, -demandWindowDays)
	if raw := c.Query("since"); raw != "" {
		t, err := a.parseWhen("since", raw, false)
		if err != nil {
			return err
		}
		since = t
	}
	ds, err := a.Trainings.TopicDemand(ctx(c), since)
	if err != nil {
		return err
	}
	return list(c, ds, "")
}
