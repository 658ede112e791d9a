package loadtest

// Exported for the external tests.
var (
	Summarize        = summarize
	HistogramLatency = histogramLatency
	Minus            = minus
	Drive            = drive
	Signed           = signed
	WebhookSecret    = webhookSecret
)

type Bucket = bucket

func NewBucket(upper float64, count uint64) Bucket { return bucket{upper: upper, count: count} }

type Sent = sent

func (s Sent) Status() int { return s.status }
