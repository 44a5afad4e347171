package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// watermarkFile is the file, in an embedded store's state directory, that
// records how far each stream had come when the store was last used.
const watermarkFile = "watermark.json"

// damageFile records, in an embedded store's state directory, the damage
// found there, until the operator accepts the loss.
const damageFile = "damage.json"

// watermarkEvery is how often a long-lived store records its watermark.
const watermarkEvery = 2 * time.Second

// streamMark is how far one stream had come: its last sequence, and when
// the stream was created (a stream made anew starts over).
type streamMark struct {
	LastSeq uint64    `json:"last_seq"`
	Created time.Time `json:"created"`
}

// watermark is the content of watermarkFile.
type watermark struct {
	Streams map[string]streamMark `json:"streams"`
}

// JetStream checks each message it reads back against a checksum, but when
// a stream's files are damaged it drops what it cannot read and starts
// anyway, without saying so to clients: a job's newest status disappears
// and an older one reads as current. Sequences never go back, so an
// embedded store records every stream's last sequence (at close, and every
// watermarkEvery while open) and, when it opens again, a stream that ends
// before its recorded sequence, or is gone, has lost writes.

// streamMarks reads how far every stream has come, and what JetStream
// itself reports lost. A listing that gets no answer in time (a server
// just started recovers its streams first, slowly on a busy machine) is
// asked again (patientRead).
func (s *Store) streamMarks(ctx context.Context) (map[string]streamMark, []string, error) {
	type listing struct {
		marks map[string]streamMark
		lost  []string
	}
	l, err := patientRead(ctx, func() (listing, error) {
		actx, cancel := readAttempt(ctx)
		defer cancel()
		marks, lost, err := s.listStreamMarks(actx)
		return listing{marks, lost}, err
	})
	if err != nil {
		return nil, nil, err
	}
	return l.marks, l.lost, nil
}

// listStreamMarks is one try of streamMarks.
func (s *Store) listStreamMarks(ctx context.Context) (map[string]streamMark, []string, error) {
	marks := map[string]streamMark{}
	var lost []string
	lister := s.js.ListStreams(ctx)
	for info := range lister.Info() {
		marks[info.Config.Name] = streamMark{LastSeq: info.State.LastSeq, Created: info.Created.UTC()}
		if l := info.State.Lost; l != nil && len(l.Msgs) > 0 {
			lost = append(lost, fmt.Sprintf("JetStream lost %d writes of stream %s (%d bytes) to damaged files", len(l.Msgs), info.Config.Name, l.Bytes))
		}
	}
	if err := lister.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return nil, nil, fmt.Errorf("list streams: %w", err)
	}
	return marks, lost, nil
}

// checkWatermark compares the streams with the watermark recorded in dir
// and returns what was lost; nothing when no watermark was recorded yet.
func (s *Store) checkWatermark(ctx context.Context, dir string) ([]string, error) {
	now, problems, err := s.streamMarks(ctx)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, watermarkFile))
	if errors.Is(err, os.ErrNotExist) {
		return problems, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", watermarkFile, err)
	}
	var w watermark
	if err := json.Unmarshal(b, &w); err != nil {
		return append(problems, fmt.Sprintf("%s is not readable (%v): it cannot tell whether writes were lost", watermarkFile, err)), nil
	}
	for name, was := range w.Streams {
		is, ok := now[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("stream %s is gone: it held %d writes when the state was last used", name, was.LastSeq))
		case !is.Created.Equal(was.Created):
			// Deleted and made anew on purpose: it starts over.
		case is.LastSeq < was.LastSeq:
			problems = append(problems, fmt.Sprintf("stream %s ends at write %d, but had reached write %d when the state was last used: %d writes are lost",
				name, is.LastSeq, was.LastSeq, was.LastSeq-is.LastSeq))
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// saveWatermark records how far every stream has come, atomically.
func (s *Store) saveWatermark(ctx context.Context) error {
	marks, _, err := s.streamMarks(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(watermark{Streams: marks}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.dir, watermarkFile), append(b, '\n'))
}

// keepWatermark saves the watermark every watermarkEvery until done is
// closed, so that a long-lived process that is killed leaves a recent one.
func (s *Store) keepWatermark(done <-chan struct{}) {
	t := time.NewTicker(watermarkEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), watermarkEvery)
			_ = s.saveWatermark(ctx) // the next tick or Close tries again
			cancel()
		}
	}
}

// writeFileAtomic writes data to path through a synced temporary file in
// the same directory, renamed over path: a crash leaves the old file or
// the new one, never a part.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// recordDamage adds problems to those recorded in dir's damage file,
// writes the file when there are any, and returns them all.
func recordDamage(dir string, problems []string) ([]string, error) {
	path := filepath.Join(dir, damageFile)
	var known []string
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &known); err != nil {
			known = []string{fmt.Sprintf("%s is not readable (%v)", damageFile, err)}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", damageFile, err)
	}
	all := append([]string{}, known...)
	for _, p := range problems {
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	if len(all) == len(known) {
		return all, nil
	}
	b, _ := json.MarshalIndent(all, "", "  ")
	return all, writeFileAtomic(path, append(b, '\n'))
}

// clearDamage forgets the recorded damage of dir.
func clearDamage(dir string) error {
	err := os.Remove(filepath.Join(dir, damageFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
