package domain

import (
	"context"
	"errors"
	"time"
)

// ErrAlreadySignedUp is in the chain of SignUp's ECONFLICT when the member
// is booked on the training already: a phone menu tells her so instead of
// "full" (test with errors.Is).
var ErrAlreadySignedUp = errors.New("already signed up")

// Training is a training session or master class with a fixed capacity.
type Training struct {
	ID         int64             `json:"id"`
	Titles     map[string]string `json:"titles"`
	StartsAt   time.Time         `json:"starts_at"`
	Place      string            `json:"place"`
	Capacity   int64             `json:"capacity"`
	SignedUp   int64             `json:"signed_up"`
	WorkshopID int64             `json:"workshop_id,omitempty"`
	Topic      string            `json:"topic,omitempty"` // the requested topic it answers, if any
	CreatedAt  time.Time         `json:"created_at"`
}

// Title returns the title in lang, falling back to another language.
func (t *Training) Title(lang string) string { return titleIn(t.Titles, lang) }

// Validate checks a new training against the configured languages.
func (t *Training) Validate(langs []string) error {
	for _, l := range langs {
		if t.Titles[l] == "" {
			return Errorf(EINVALID, "titles.%s: a title in every configured language is required", l)
		}
	}
	switch {
	case t.StartsAt.IsZero():
		return Errorf(EINVALID, "starts_at: required, as RFC 3339 (2026-12-05T10:00:00+05:30)")
	case t.Capacity <= 0:
		return Errorf(EINVALID, "capacity: must be at least 1, not %d", t.Capacity)
	case t.Place == "":
		return Errorf(EINVALID, "place: required")
	}
	return nil
}

// TopicDemand is how many requests a training topic has had.
type TopicDemand struct {
	Topic    string    `json:"topic"`
	Requests int64     `json:"requests"`
	Members  int64     `json:"members"`
	Latest   time.Time `json:"latest"`
}

// TrainingRequest is a worker asking for a training on a topic.
type TrainingRequest struct {
	ID        int64     `json:"id"`
	MemberID  int64     `json:"member_id,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Topic     string    `json:"topic"`
	CreatedAt time.Time `json:"created_at"`
}

// TrainingService manages trainings, sign-ups and requested topics.
type TrainingService interface {
	// CreateTraining adds a training; EINVALID.
	CreateTraining(ctx context.Context, t *Training) error
	// TrainingByID returns ENOTFOUND when there is none.
	TrainingByID(ctx context.Context, id int64) (*Training, error)
	// UpcomingTrainings lists trainings starting after now, soonest first.
	UpcomingTrainings(ctx context.Context) ([]*Training, error)
	// SignUp books a member on a training, atomically against capacity:
	// ENOTFOUND, EFORBIDDEN when the member is not active, ECONFLICT when
	// full, already signed up (with ErrAlreadySignedUp), or already started.
	SignUp(ctx context.Context, trainingID, memberID int64) (*Training, error)
	// RequestTraining records a topic a member asks for; EINVALID when empty.
	RequestTraining(ctx context.Context, memberID int64, topic string) (*TrainingRequest, error)
	// TopicDemand ranks requested topics by number of requests since since.
	TopicDemand(ctx context.Context, since time.Time) ([]*TopicDemand, error)
}
