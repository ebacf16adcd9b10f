package domain

// Services are the domain's services on one store, as the operator API,
// the console and the gateway's wiring all take them.
type Services struct {
	Members    MemberService
	Workshops  WorkshopService
	Tasks      TaskService
	Ledger     LedgerService
	Trainings  TrainingService
	Complaints ComplaintService
	Messages   MessageService
	Tokens     TokenService
	Reports    ReportService
}
