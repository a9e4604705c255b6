package service

// SentEmail is an email as the log transport keeps it.
type SentEmail struct {
	JobID     int64
	MessageID string
	Type      EmailKind
	To        string
	Subject   string
	Text      string
	HTML      string
}

// Count is a number of things with two labels, for metrics.
type Count struct {
	A, B string
	N    int64
}
