package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/muster-dev/muster/state"
)

// fakeLaunches keeps launch records and armed schedules for fakeStore,
// with the compare-and-set rules of state.Store.
type fakeLaunches struct {
	mu       sync.Mutex
	launches map[string]state.Launch // by job key and id
	armed    map[string]state.Armed
	rev      uint64
}

func (f *fakeStore) CreateLaunch(_ context.Context, l state.Launch) (state.Launch, error) {
	if err := f.check("CreateLaunch"); err != nil {
		return state.Launch{}, err
	}
	fl := &f.launchState
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.launches == nil {
		fl.launches = map[string]state.Launch{}
	}
	k := key(l.Namespace, l.Name) + "#" + l.ID
	if _, ok := fl.launches[k]; ok {
		return state.Launch{}, &state.ConflictError{What: "launch " + k, Reason: "it was recorded already"}
	}
	fl.rev++
	if l.CreatedAt.IsZero() {
		l.CreatedAt = f.now()
	}
	l.UpdatedAt = f.now()
	l = state.AsStoredLaunch(l, fl.rev)
	fl.launches[k] = l
	return l, nil
}

func (f *fakeStore) UpdateLaunch(_ context.Context, l state.Launch) (state.Launch, error) {
	if err := f.check("UpdateLaunch"); err != nil {
		return state.Launch{}, err
	}
	fl := &f.launchState
	fl.mu.Lock()
	defer fl.mu.Unlock()
	k := key(l.Namespace, l.Name) + "#" + l.ID
	cur, ok := fl.launches[k]
	if !ok || cur.StoredRevision() != l.StoredRevision() {
		return state.Launch{}, &state.ConflictError{What: "launch " + k, Base: l.StoredRevision(), Current: cur.StoredRevision()}
	}
	fl.rev++
	l.UpdatedAt = f.now()
	l = state.AsStoredLaunch(l, fl.rev)
	fl.launches[k] = l
	return l, nil
}

func (f *fakeStore) Launches(_ context.Context, ns, name string) ([]state.Launch, error) {
	if err := f.check("Launches"); err != nil {
		return nil, err
	}
	fl := &f.launchState
	fl.mu.Lock()
	defer fl.mu.Unlock()
	var out []state.Launch
	for k, l := range fl.launches {
		if ns == "" || strings.HasPrefix(k, key(ns, name)+"#") || name == "" && strings.HasPrefix(k, ns+"/") {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b state.Launch) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (f *fakeStore) Arm(_ context.Context, ns, name string, a state.Armed) error {
	if err := f.check("Arm"); err != nil {
		return err
	}
	fl := &f.launchState
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.armed == nil {
		fl.armed = map[string]state.Armed{}
	}
	fl.armed[key(ns, name)] = a
	return nil
}

func (f *fakeStore) Armed(_ context.Context, ns, name string) (state.Armed, error) {
	if err := f.check("Armed"); err != nil {
		return state.Armed{}, err
	}
	fl := &f.launchState
	fl.mu.Lock()
	defer fl.mu.Unlock()
	a, ok := fl.armed[key(ns, name)]
	if !ok {
		return a, fmt.Errorf("schedule of %s/%s %w", ns, name, state.ErrNotFound)
	}
	return a, nil
}
