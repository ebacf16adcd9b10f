package domain

import (
	"context"
	"time"
)

// Summary is the programme's outcome for a period, as the union reports it
// to the people who fund it. Money is in minor units; durations in hours.
type Summary struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`

	WomenWithPaidWork       int64    `json:"women_with_paid_work"`
	WomenWithPaidWorkBefore int64    `json:"women_with_paid_work_previous"`
	EarningsTotal           int64    `json:"earnings_total_minor"`
	EarningsTotalBefore     int64    `json:"earnings_total_previous_minor"`
	EarningsChangePct       *float64 `json:"earnings_change_pct"`
	EarningsMedian          int64    `json:"earnings_median_minor"` // per woman with paid work
	PaidOut                 int64    `json:"paid_out_minor"`
	WorkersStopped          int64    `json:"workers_stopped"` // worked in the previous period, not in this one

	ComplaintsVoiced     int64    `json:"complaints_voiced"`
	ProposalsVoiced      int64    `json:"proposals_voiced"`
	Resolved             int64    `json:"resolved"`
	ResolutionRatePct    *float64 `json:"resolution_rate_pct"`
	MedianHoursToAck     *float64 `json:"median_hours_to_acknowledge"`
	MedianHoursToResolve *float64 `json:"median_hours_to_resolve"`

	TrainingDemand  []*TopicDemand `json:"training_demand"`
	TrainingSignups int64          `json:"training_signups"`
}

// ReportService computes outcome figures.
type ReportService interface {
	// Summary covers [from, to) and compares it with the period of equal
	// length just before; EINVALID when to is not after from.
	Summary(ctx context.Context, from, to time.Time) (*Summary, error)
}
