package storage

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.ReportService = (*ReportService)(nil)

// ReportService computes the programme's outcome figures.
type ReportService struct{ db *DB }

// NewReportService returns the report service on db.
func NewReportService(db *DB) *ReportService { return &ReportService{db: db} }

// Summary covers [from, to) and compares it with the period before.
func (s *ReportService) Summary(ctx context.Context, from, to time.Time) (*domain.Summary, error) {
	if !to.After(from) {
		return nil, domain.Errorf(domain.EINVALID, "to: must be after from")
	}
	prevFrom := from.Add(-to.Sub(from))
	sum := &domain.Summary{From: from, To: to}
	f, t, pf := fmtTime(from), fmtTime(to), fmtTime(prevFrom)

	cur, err := s.earningsByMember(ctx, f, t)
	if err != nil {
		return nil, err
	}
	prev, err := s.earningsByMember(ctx, pf, f)
	if err != nil {
		return nil, err
	}
	sum.WomenWithPaidWork, sum.WomenWithPaidWorkBefore = int64(len(cur)), int64(len(prev))
	amounts := make([]int64, 0, len(cur))
	for _, a := range cur {
		sum.EarningsTotal += a
		amounts = append(amounts, a)
	}
	for id, a := range prev {
		sum.EarningsTotalBefore += a
		if _, ok := cur[id]; !ok {
			sum.WorkersStopped++
		}
	}
	if sum.EarningsTotalBefore > 0 {
		pct := float64(sum.EarningsTotal-sum.EarningsTotalBefore) * 100 / float64(sum.EarningsTotalBefore)
		sum.EarningsChangePct = &pct
	}
	slices.Sort(amounts)
	if n := len(amounts); n > 0 {
		if n%2 == 1 {
			sum.EarningsMedian = amounts[n/2]
		} else {
			sum.EarningsMedian = (amounts[n/2-1] + amounts[n/2]) / 2
		}
	}
	if err := s.db.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount_minor), 0) FROM ledger WHERE kind = 'payout' AND created_at >= ? AND created_at < ?`, f, t).Scan(&sum.PaidOut); err != nil {
		return nil, err
	}
	if err := s.db.r.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE kind WHEN 'complaint' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE kind WHEN 'proposal' THEN 1 ELSE 0 END), 0)
		FROM complaints WHERE created_at >= ? AND created_at < ?`, f, t).Scan(&sum.ComplaintsVoiced, &sum.ProposalsVoiced); err != nil {
		return nil, err
	}
	if err := s.db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints WHERE resolved_at >= ? AND resolved_at < ?`, f, t).Scan(&sum.Resolved); err != nil {
		return nil, err
	}

	// Resolution rate and times are over the reports voiced in the period.
	rows, err := s.db.r.QueryContext(ctx, `SELECT status, created_at, acknowledged_at, resolved_at FROM complaints WHERE created_at >= ? AND created_at < ?`, f, t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var voiced, resolved int
	var toAck, toResolve []float64
	for rows.Next() {
		var status, created string
		var ack, res sql.NullString
		if err := rows.Scan(&status, &created, &ack, &res); err != nil {
			return nil, err
		}
		voiced++
		c := parseTime(created)
		if ack.Valid {
			toAck = append(toAck, parseTime(ack.String).Sub(c).Hours())
		}
		if res.Valid {
			resolved++
			toResolve = append(toResolve, parseTime(res.String).Sub(c).Hours())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if voiced > 0 {
		r := float64(resolved) * 100 / float64(voiced)
		sum.ResolutionRatePct = &r
	}
	sum.MedianHoursToAck, sum.MedianHoursToResolve = median(toAck), median(toResolve)

	if sum.TrainingDemand, err = topicDemand(ctx, s.db.r, from, to); err != nil {
		return nil, err
	}
	if err := s.db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM training_signups WHERE created_at >= ? AND created_at < ?`, f, t).Scan(&sum.TrainingSignups); err != nil {
		return nil, err
	}
	return sum, nil
}

func (s *ReportService) earningsByMember(ctx context.Context, from, to string) (map[int64]int64, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT member_id, SUM(amount_minor) FROM ledger WHERE kind = 'earning' AND created_at >= ? AND created_at < ? GROUP BY member_id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, amt int64
		if err := rows.Scan(&id, &amt); err != nil {
			return nil, err
		}
		out[id] = amt
	}
	return out, rows.Err()
}

func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	n := len(xs)
	m := xs[n/2]
	if n%2 == 0 {
		m = (xs[n/2-1] + xs[n/2]) / 2
	}
	m = float64(int64(m*10+0.5)) / 10
	return &m
}
