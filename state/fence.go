package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// ErrFenced is matched (errors.Is) by every write of a fenced store
// (Lease.Fenced) that the store refused because another holder took the
// lease over since: this control plane no longer leads, and nothing of the
// write was stored.
var ErrFenced = errors.New("this control plane no longer leads")

// fencePrefix starts the keys (and event subjects) of fences and their
// checks. Muster's own keys never start with '_': job keys start with a
// word, execution keys and event subjects with a namespace (a lowercase
// DNS label), node ids and spec hashes with a letter or digit.
const fencePrefix = "_fence."

// isFenceKey reports whether a KV key is a fence's or a check's: no
// listing, watch or count shows them.
func isFenceKey(key string) bool { return strings.HasPrefix(key, fencePrefix) }

// fencedBuckets are the KV buckets a leading control plane writes: the
// fenced view fences them (and the events stream). Specs and documents are
// content-addressed and never change once stored: they need no fence.
var fencedBuckets = []string{bucketJobs, bucketExecutions, bucketNodes, bucketSensitive}

// Batch headers of atomic publishes (server/jetstream_batching.go).
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
	hdrExpectSubj  = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrKVOperation = "KV-Operation"
)

// fenceRecord is the value of a fence: which holding of which lease may
// write the stream.
type fenceRecord struct {
	Lease  string `json:"lease"`
	Holder string `json:"holder"`
	Term   uint64 `json:"term"`
}

// fence is what a fenced view writes through: one fencedStream per stream
// it fences, fixed once made.
type fence struct {
	rec     fenceRecord
	streams map[string]*fencedStream
}

// fencedStream is one stream's fence.
type fencedStream struct {
	// mu serializes this process's fenced writes to the stream: the server
	// refuses a check on the fence's subject while another is in flight.
	mu      sync.Mutex
	st      jetstream.Stream
	subject string // the fence's subject
	check   string // the subject the check message is written to
	seq     uint64 // the fence's stream sequence
}

// Fenced returns a view of the store (the same connection) whose writes
// succeed only while no other holder took this lease over: it writes a
// fence (this lease's holder and term) into every stream a leader writes,
// and then sends each write as an atomic batch with a check that the
// fence is still its own. Once another holder took the lease and fenced
// the streams in turn, every write of this view fails with an error
// matching ErrFenced and stores nothing, whether or not this holder knows
// yet that it lost the lease. Fenced fails with ErrFenced when a newer
// holder fenced the streams already.
//
// The view's reads are the store's. Closing it does nothing: close the
// store.
func (l *Lease) Fenced(ctx context.Context) (*Store, error) {
	s := l.s
	f := &fence{rec: fenceRecord{Lease: l.name, Holder: l.holder, Term: l.term}, streams: map[string]*fencedStream{}}
	for _, b := range fencedBuckets {
		if _, err := s.kv(ctx, b); err != nil {
			return nil, err
		}
		pre := "$KV." + s.prefix + b + "." + fencePrefix + l.name
		if err := f.add(ctx, s, "KV_"+s.prefix+b, pre, pre+".check"); err != nil {
			return nil, err
		}
	}
	if _, err := s.events(ctx); err != nil {
		return nil, err
	}
	pre := "muster." + s.prefix + "events." + fencePrefix + l.name
	if err := f.add(ctx, s, s.prefix+eventsStream, pre, pre+".check"); err != nil {
		return nil, err
	}
	v := &Store{nc: s.nc, js: s.js, prefix: s.prefix, base: s, fence: f}
	v.logger.Store(s.logger.Load())
	s.log().Info("fenced the store", "lease", l.name, "holder", l.holder, "term", l.term)
	return v, nil
}

// add fences one stream, letting it take atomic batches first.
func (f *fence) add(ctx context.Context, s *Store, stream, subject, check string) error {
	if err := s.enableStream(ctx, stream, allowAtomic); err != nil {
		return err
	}
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("fence stream %s: %w", stream, err)
	}
	fs := &fencedStream{st: st, subject: subject, check: check}
	if fs.seq, err = s.writeFence(ctx, fs, f.rec); err != nil {
		return err
	}
	f.streams[stream] = fs
	return nil
}

// writeFence writes rec as the stream's fence unless a newer term's fence
// is there (ErrFenced), with a compare-and-set so that a deposed holder
// fencing late cannot overwrite a newer fence. Returns its sequence.
func (s *Store) writeFence(ctx context.Context, fs *fencedStream, rec fenceRecord) (uint64, error) {
	val, _ := json.Marshal(rec)
	for attempt := 0; attempt < maxPutAttempts; attempt++ {
		cur, last, err := readFence(ctx, fs)
		if err != nil {
			return 0, err
		}
		switch {
		case cur.Term > rec.Term:
			return 0, fencedError(cur)
		case cur == rec:
			return last, nil
		}
		m := nats.NewMsg(fs.subject)
		m.Data = val
		ack, err := s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(last))
		if err == nil {
			return ack.Sequence, nil
		}
		if !isWrongLastSequence(err) {
			return 0, fmt.Errorf("fence stream %s: %w", fs.st.CachedInfo().Config.Name, err)
		}
	}
	return 0, &ConflictError{What: "the fence of " + fs.subject, Reason: fmt.Sprintf("gave up after %d attempts", maxPutAttempts)}
}

// readFence returns the stream's fence and its sequence; zero values when
// it has none.
func readFence(ctx context.Context, fs *fencedStream) (fenceRecord, uint64, error) {
	m, err := fs.st.GetLastMsgForSubject(ctx, fs.subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fenceRecord{}, 0, nil
	}
	if err != nil {
		return fenceRecord{}, 0, fmt.Errorf("read the fence %s: %w", fs.subject, err)
	}
	var rec fenceRecord
	_ = json.Unmarshal(m.Data, &rec)
	return rec, m.Sequence, nil
}

func fencedError(by fenceRecord) error {
	who := by.Holder
	if who == "" {
		who = "another control plane"
	}
	return fmt.Errorf("%w: %s took the %s lease over (term %d), and the store refused the write", ErrFenced, who, by.Lease, by.Term)
}

// enableStream changes an existing stream's options: change edits the
// stream's current configuration and says whether it changed anything; only
// then is it updated (every other field kept as it is). Checked once per
// stream and store.
func (s *Store) enableStream(ctx context.Context, stream string, change func(*jetstream.StreamConfig) bool) error {
	if s.base != nil {
		return s.base.enableStream(ctx, stream, change)
	}
	if _, ok := s.enabled.Load(stream); ok {
		return nil
	}
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("open stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream %s: %w", stream, err)
	}
	cfg := info.Config
	if change(&cfg) {
		if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("update stream %s: %w", stream, err)
		}
		s.log().Info("enabled stream options", "stream", stream)
	}
	s.enabled.Store(stream, true)
	return nil
}

// pubAckResponse is the server's answer to a batch's commit.
type pubAckResponse struct {
	Error    *jetstream.APIError `json:"error,omitempty"`
	Sequence uint64              `json:"seq"`
}

// fencedWrite stores m (with its own compare-and-set header, if any) in
// stream and, in the same atomic batch, a check that the stream's fence
// is still this view's. Returns m's stream sequence. A moved fence fails
// with ErrFenced; a lost compare-and-set of m with the server's error.
func (s *Store) fencedWrite(ctx context.Context, stream string, m *nats.Msg) (uint64, error) {
	fs := s.fence.streams[stream]
	if fs == nil {
		return 0, fmt.Errorf("state: stream %s is not fenced", stream)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	seq, err := s.sendFenced(ctx, fs, m)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeAtomicDisabled {
		// Another process (an older muster) updated the stream's
		// configuration without atomic batches: turn them on again.
		s.base.enabled.Delete(stream)
		if err := s.enableStream(ctx, stream, allowAtomic); err != nil {
			return 0, err
		}
		seq, err = s.sendFenced(ctx, fs, m)
	}
	return seq, err
}

// errCodeAtomicDisabled is the server's error code for an atomic batch
// sent to a stream that does not allow them.
const errCodeAtomicDisabled jetstream.ErrorCode = 10174

// allowAtomic turns a stream's atomic batches on (see enableStream).
func allowAtomic(c *jetstream.StreamConfig) bool {
	if c.AllowAtomicPublish {
		return false
	}
	c.AllowAtomicPublish = true
	return true
}

// sendFenced sends m and the check that the fence is still this view's.
// A write without a compare-and-set of its own (a Put, an event) carries
// the check itself: one message. One with its own goes with a check
// message in an atomic batch, which costs more (the server stages a batch
// on disk for a stream of one replica in files).
func (s *Store) sendFenced(ctx context.Context, fs *fencedStream, m *nats.Msg) (uint64, error) {
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	if m.Header.Get(jetstream.ExpectedLastSubjSeqHeader) == "" {
		return s.sendChecked(ctx, fs, m)
	}
	stream := fs.st.CachedInfo().Config.Name
	id := nuid.Next()
	m.Header.Set(hdrBatchID, id)
	m.Header.Set(hdrBatchSeq, "1")
	check := nats.NewMsg(fs.check)
	check.Header.Set(hdrBatchID, id)
	check.Header.Set(hdrBatchSeq, "2")
	check.Header.Set(hdrBatchCommit, "1")
	check.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(fs.seq, 10))
	check.Header.Set(hdrExpectSubj, fs.subject)
	if err := s.nc.PublishMsg(m); err != nil {
		return 0, fmt.Errorf("write to %s: %w", stream, err)
	}
	resp, err := s.nc.RequestMsgWithContext(ctx, check)
	if err != nil {
		return 0, fmt.Errorf("write to %s: %w", stream, err)
	}
	var ack pubAckResponse
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return 0, fmt.Errorf("write to %s: the server's answer %q: %w", stream, resp.Data, err)
	}
	if ack.Error == nil {
		return ack.Sequence - 1, nil // the batch's two messages are stored in a row
	}
	return 0, s.fenceMoved(ctx, fs, ack.Error)
}

// sendChecked sends m with the check of the fence as its own.
func (s *Store) sendChecked(ctx context.Context, fs *fencedStream, m *nats.Msg) (uint64, error) {
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(fs.seq, 10))
	m.Header.Set(hdrExpectSubj, fs.subject)
	ack, err := s.js.PublishMsg(ctx, m)
	if err != nil {
		return 0, s.fenceMoved(ctx, fs, err)
	}
	return ack.Sequence, nil
}

// fenceMoved returns ErrFenced when err is a refused expected sequence
// and the fence is no longer this view's; else err.
func (s *Store) fenceMoved(ctx context.Context, fs *fencedStream, err error) error {
	if isWrongLastSequence(err) {
		cur, seq, rerr := readFence(ctx, fs)
		if rerr == nil && seq != fs.seq {
			return fencedError(cur)
		}
	}
	return err
}

// kvMsg is the message of a KV write of key: a put of val when op is "",
// else a DEL or PURGE marker. expect, when set, is the compare-and-set:
// the key's revision the write expects (0: none).
func kvMsg(kv jetstream.KeyValue, key string, val []byte, op string, expect *uint64) *nats.Msg {
	m := nats.NewMsg("$KV." + kv.Bucket() + "." + key)
	m.Data = val
	switch op {
	case "PURGE":
		m.Header.Set(hdrKVOperation, op)
		m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	case "DEL":
		m.Header.Set(hdrKVOperation, op)
	}
	if expect != nil {
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(*expect, 10))
	}
	return m
}

// kvWrite is a fenced KV write (see kvMsg); a lost compare-and-set fails
// as KV's own do (ErrKeyExists, ErrKeyRevisionMismatch).
func (s *Store) kvWrite(ctx context.Context, kv jetstream.KeyValue, key string, val []byte, op string, expect *uint64) (uint64, error) {
	rev, err := s.fencedWrite(ctx, "KV_"+kv.Bucket(), kvMsg(kv, key, val, op, expect))
	if err == nil || expect == nil || errors.Is(err, ErrFenced) || !isWrongLastSequence(err) {
		return rev, err
	}
	if *expect == 0 {
		return 0, fmt.Errorf("%w: %w", jetstream.ErrKeyExists, err)
	}
	return 0, fmt.Errorf("%w: %w", jetstream.ErrKeyRevisionMismatch, err)
}

// kvCreate is kv.Create, fenced in a fenced view: it creates key, or
// writes over a deleted one.
func (s *Store) kvCreate(ctx context.Context, kv jetstream.KeyValue, key string, val []byte) (uint64, error) {
	began := time.Now()
	rev, err := patiently(ctx, func() (uint64, error) { return s.kvCreateOnce(ctx, kv, key, val) })
	observe(OpCreate, began, err)
	return rev, err
}

// kvCreateOnce is one try of kvCreate.
func (s *Store) kvCreateOnce(ctx context.Context, kv jetstream.KeyValue, key string, val []byte) (uint64, error) {
	var zero uint64
	if s.fence == nil {
		// kv.Create, sent as send does; a key that is there (maybe as a
		// delete marker, which Create takes) is left to kv.Create.
		seq, err := s.send(ctx, kvMsg(kv, key, val, "", &zero))
		if !isWrongLastSequence(err) {
			return seq, err
		}
		return kv.Create(ctx, key, val)
	}
	rev, err := s.kvWrite(ctx, kv, key, val, "", &zero)
	if !isCASFailure(err) {
		return rev, err
	}
	// The key may be there as a delete marker: Create takes it, as KV's
	// own does.
	fs := s.fence.streams["KV_"+kv.Bucket()]
	last, lerr := fs.st.GetLastMsgForSubject(ctx, "$KV."+kv.Bucket()+"."+key)
	if lerr != nil || !isDeleteMarker(last) {
		return 0, err
	}
	return s.kvWrite(ctx, kv, key, val, "", &last.Sequence)
}

// isDeleteMarker reports whether a KV message deletes its key.
func isDeleteMarker(m *jetstream.RawStreamMsg) bool {
	op := m.Header.Get(hdrKVOperation)
	return op == "DEL" || op == "PURGE" || m.Header.Get(jetstream.MarkerReasonHeader) != ""
}

// kvUpdate is kv.Update, fenced in a fenced view.
func (s *Store) kvUpdate(ctx context.Context, kv jetstream.KeyValue, key string, val []byte, rev uint64) (uint64, error) {
	began := time.Now()
	seq, err := patiently(ctx, func() (uint64, error) { return s.kvUpdateOnce(ctx, kv, key, val, rev) })
	observe(OpUpdate, began, err)
	return seq, err
}

// kvUpdateOnce is one try of kvUpdate.
func (s *Store) kvUpdateOnce(ctx context.Context, kv jetstream.KeyValue, key string, val []byte, rev uint64) (uint64, error) {
	if s.fence == nil {
		// kv.Update, sent as send does.
		seq, err := s.send(ctx, kvMsg(kv, key, val, "", &rev))
		if isWrongLastSequence(err) {
			return 0, fmt.Errorf("%w: %w", jetstream.ErrKeyRevisionMismatch, err)
		}
		return seq, err
	}
	return s.kvWrite(ctx, kv, key, val, "", &rev)
}

// kvPut is kv.Put, fenced in a fenced view.
func (s *Store) kvPut(ctx context.Context, kv jetstream.KeyValue, key string, val []byte) (uint64, error) {
	began := time.Now()
	rev, err := patiently(ctx, func() (uint64, error) { return s.kvPutOnce(ctx, kv, key, val) })
	observe(OpPut, began, err)
	return rev, err
}

// kvPutOnce is one try of kvPut.
func (s *Store) kvPutOnce(ctx context.Context, kv jetstream.KeyValue, key string, val []byte) (uint64, error) {
	if s.fence == nil {
		return kv.Put(ctx, key, val)
	}
	return s.kvWrite(ctx, kv, key, val, "", nil)
}

// kvDelete is kv.Delete (purge: kv.Purge) with LastRevision(rev) when rev
// is not 0, fenced in a fenced view.
func (s *Store) kvDelete(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64, purge bool) error {
	began := time.Now()
	err := s.kvDeleteOnce(ctx, kv, key, rev, purge)
	observe(OpDelete, began, err)
	return err
}

// kvDeleteOnce is kvDelete, unobserved.
func (s *Store) kvDeleteOnce(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64, purge bool) error {
	if s.fence == nil {
		var opts []jetstream.KVDeleteOpt
		if rev != 0 {
			opts = append(opts, jetstream.LastRevision(rev))
		}
		if purge {
			return kv.Purge(ctx, key, opts...)
		}
		return kv.Delete(ctx, key, opts...)
	}
	op := "DEL"
	if purge {
		op = "PURGE"
	}
	var expect *uint64
	if rev != 0 {
		expect = &rev
	}
	_, err := s.kvWrite(ctx, kv, key, nil, op, expect)
	return err
}

// publish stores an event's message on subject, fenced in a fenced view.
func (s *Store) publish(ctx context.Context, subject string, data []byte) error {
	began := time.Now()
	_, err := patiently(ctx, func() (struct{}, error) { return struct{}{}, s.publishOnce(ctx, subject, data) })
	observe(OpPublish, began, err)
	return err
}

// publishOnce is one try of publish.
func (s *Store) publishOnce(ctx context.Context, subject string, data []byte) error {
	if s.fence == nil {
		m := nats.NewMsg(subject)
		m.Data = data
		_, err := s.send(ctx, m)
		return err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	_, err := s.fencedWrite(ctx, s.prefix+eventsStream, m)
	return err
}
