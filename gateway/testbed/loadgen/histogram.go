package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram layout: values (nanoseconds) below subCount are exact; above,
// each power of two is split into subCount linear sub-buckets, so a
// recorded value is known to within 1/subCount (about 1.6 %), like an HDR
// histogram with two significant digits. Values beyond maxExp are clamped
// into the last bucket (2^40 ns is about 18 minutes, far above any timeout).
const (
	subBits  = 6
	subCount = 1 << subBits
	maxExp   = 40 - subBits
	nBuckets = subCount + (maxExp+1)*subCount
)

// Histogram records durations. Record does not allocate; the zero value is
// ready. It is not safe for concurrent use: keep one per goroutine and
// Merge them.
type Histogram struct {
	counts [nBuckets]uint64
	total  uint64
	sum    float64 // nanoseconds, for the mean
	min    int64
	max    int64
}

func bucketOf(v int64) int {
	if v < subCount {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - subBits - 1 // v>>e lands in [subCount, 2*subCount)
	if e > maxExp {
		return nBuckets - 1
	}
	return subCount + e*subCount + int(v>>e) - subCount
}

// bucketHigh is the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	e := (i - subCount) / subCount
	m := int64((i-subCount)%subCount + subCount)
	return (m+1)<<e - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += float64(v)
}

// Merge adds o's records to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
	h.sum += o.sum
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count is the number of records.
func (h *Histogram) Count() uint64 { return h.total }

// Min is the smallest recorded duration (0 when empty).
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max is the largest recorded duration (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average duration (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.total)))
}

// Quantile returns the duration below or at which a fraction q of the
// records lie, as the upper edge of its bucket (never above Max). q is
// clamped to [0, 1]; an empty histogram gives 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
