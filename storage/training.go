package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.TrainingService = (*TrainingService)(nil)

// TrainingService stores trainings, sign-ups and requested topics.
type TrainingService struct{ db *DB }

// NewTrainingService returns the training service on db.
func NewTrainingService(db *DB) *TrainingService { return &TrainingService{db: db} }

const trainingCols = `id, titles, starts_at, place, capacity, signed_up, COALESCE(workshop_id, 0), topic, created_at`

func scanTraining(row scanner) (*domain.Training, error) {
	var t domain.Training
	var titles, starts, created string
	if err := row.Scan(&t.ID, &titles, &starts, &t.Place, &t.Capacity, &t.SignedUp, &t.WorkshopID, &t.Topic, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(titles), &t.Titles); err != nil {
		return nil, err
	}
	t.StartsAt, t.CreatedAt = parseTime(starts), parseTime(created)
	return &t, nil
}

// CreateTraining adds a training.
func (s *TrainingService) CreateTraining(ctx context.Context, t *domain.Training) error {
	t.Titles = trimTitles(t.Titles)
	if err := t.Validate(s.db.Languages); err != nil {
		return err
	}
	titles, _ := json.Marshal(t.Titles)
	t.SignedUp, t.CreatedAt = 0, s.db.now()
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if t.WorkshopID != 0 {
			if err := workshopExists(ctx, tx, t.WorkshopID); err != nil {
				return err
			}
		}
		return insertID(ctx, tx, &t.ID, `INSERT INTO trainings (titles, starts_at, place, capacity, signed_up, workshop_id, topic, created_at)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?)`, string(titles), fmtTime(t.StartsAt), t.Place, t.Capacity, nullID(t.WorkshopID), topicKey(t.Topic), fmtTime(t.CreatedAt))
	})
	if err != nil {
		return fmt.Errorf("create training: %w", err)
	}
	return nil
}

func trainingByID(ctx context.Context, q queryRower, id int64) (*domain.Training, error) {
	t, err := scanTraining(q.QueryRowContext(ctx, `SELECT `+trainingCols+` FROM trainings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "training %d not found", id)
	}
	return t, err
}

// TrainingByID returns one training.
func (s *TrainingService) TrainingByID(ctx context.Context, id int64) (*domain.Training, error) {
	return trainingByID(ctx, s.db.r, id)
}

// UpcomingTrainings lists trainings that have not started, soonest first.
func (s *TrainingService) UpcomingTrainings(ctx context.Context) ([]*domain.Training, error) {
	return list(ctx, s.db.r, `SELECT `+trainingCols+` FROM trainings WHERE starts_at > ? ORDER BY starts_at, id LIMIT 200`, []any{fmtTime(s.db.now())}, scanTraining)
}

// SignUp books a member on a training within its capacity.
func (s *TrainingService) SignUp(ctx context.Context, trainingID, memberID int64) (*domain.Training, error) {
	var t *domain.Training
	now := s.db.now()
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if err := activeMember(ctx, tx, memberID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM training_signups WHERE training_id = ? AND member_id = ?`, trainingID, memberID).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return fmt.Errorf("%w: %w", domain.ErrAlreadySignedUp, domain.Errorf(domain.ECONFLICT, "member %d is already signed up for training %d", memberID, trainingID))
		}
		res, err := tx.ExecContext(ctx, `UPDATE trainings SET signed_up = signed_up + 1 WHERE id = ? AND signed_up < capacity AND starts_at > ?`, trainingID, fmtTime(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			t, err := trainingByID(ctx, tx, trainingID)
			if err != nil {
				return err
			}
			if !t.StartsAt.After(now) {
				return domain.Errorf(domain.ECONFLICT, "training %d has already started", trainingID)
			}
			return domain.Errorf(domain.ECONFLICT, "training %d is full (%d places)", trainingID, t.Capacity)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO training_signups (training_id, member_id, created_at) VALUES (?, ?, ?)`, trainingID, memberID, fmtTime(now)); err != nil {
			return err
		}
		t, err = trainingByID(ctx, tx, trainingID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sign up for training %d: %w", trainingID, err)
	}
	return t, nil
}

// topicKey folds case and spacing so "Tailoring", " tailoring " and
// "TAILORING" count as one topic.
func topicKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// RequestTraining records a requested topic.
func (s *TrainingService) RequestTraining(ctx context.Context, memberID int64, topic string) (*domain.TrainingRequest, error) {
	topic = strings.Join(strings.Fields(topic), " ")
	if topic == "" {
		return nil, domain.Errorf(domain.EINVALID, "topic: say what you would like to learn")
	}
	if len([]rune(topic)) > 100 {
		return nil, domain.Errorf(domain.EINVALID, "topic: at most 100 characters")
	}
	r := &domain.TrainingRequest{MemberID: memberID, Topic: topic, CreatedAt: s.db.now()}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if err := memberExists(ctx, tx, memberID); err != nil {
			return err
		}
		return insertID(ctx, tx, &r.ID, `INSERT INTO training_requests (member_id, topic, topic_key, created_at) VALUES (?, ?, ?, ?)`,
			memberID, topic, topicKey(topic), fmtTime(r.CreatedAt))
	})
	if err != nil {
		return nil, fmt.Errorf("request training: %w", err)
	}
	return r, nil
}

// TopicDemand ranks requested topics since a time.
func (s *TrainingService) TopicDemand(ctx context.Context, since time.Time) ([]*domain.TopicDemand, error) {
	return topicDemand(ctx, s.db.r, since, s.db.now().Add(time.Hour))
}

func topicDemand(ctx context.Context, db *sql.DB, from, to time.Time) ([]*domain.TopicDemand, error) {
	rows, err := db.QueryContext(ctx, `SELECT MIN(topic), COUNT(*), COUNT(DISTINCT member_id), MAX(created_at)
		FROM training_requests WHERE created_at >= ? AND created_at < ? GROUP BY topic_key ORDER BY COUNT(*) DESC, MAX(created_at) DESC LIMIT 50`,
		fmtTime(from), fmtTime(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*domain.TopicDemand{}
	for rows.Next() {
		var d domain.TopicDemand
		var latest string
		if err := rows.Scan(&d.Topic, &d.Requests, &d.Members, &latest); err != nil {
			return nil, err
		}
		d.Latest = parseTime(latest)
		out = append(out, &d)
	}
	return out, rows.Err()
}
