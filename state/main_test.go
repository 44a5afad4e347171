package state

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// Child processes: the test binary re-runs itself with childEnv set to a
// mode, to hold the lock or to die in the middle of a commit.
const (
	childEnv    = "MUSTER_STATE_TEST_CHILD"
	childDirEnv = "MUSTER_STATE_TEST_DIR"
	childArgEnv = "MUSTER_STATE_TEST_ARG"
	childReady  = "READY"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode, os.Getenv(childDirEnv), os.Getenv(childArgEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild is the body of a child process. It prints childReady when the
// parent may kill it, and never returns on its own in the killing modes.
func runChild(mode, dir, arg string) error {
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{LockWait: 10 * time.Second, Holder: "state test " + mode})
	if err != nil {
		return err
	}
	switch mode {
	case "hold":
		fmt.Println(childReady)
		time.Sleep(time.Minute) // holds the lock until the test kills it
	case "crash-before-status":
		// Commit arg's spec on top of revision 1 and die between the version
		// record and the status.
		testHookBeforeStatus = func() {
			fmt.Println(childReady)
			time.Sleep(time.Minute) // stays mid-commit until the test kills it
		}
		h, err := s.PutSpec(ctx, []byte(arg))
		if err != nil {
			return err
		}
		_, err = s.CommitVersion(ctx, "default", "web", h, 1, StateDeploying)
		return fmt.Errorf("commit returned (%v) instead of blocking in the hook", err)
	case "commit-loop":
		// Commit new versions as fast as possible until killed.
		for i := 0; ; i++ {
			if i == 5 {
				fmt.Println(childReady)
			}
			st, err := s.Job(ctx, "default", "loop")
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			h, err := s.PutSpec(ctx, fmt.Appendf(nil, `{"loop":%q,"i":%d}`, arg, i))
			if err != nil {
				return err
			}
			if _, err := s.CommitVersion(ctx, "default", "loop", h, st.Revision, StateRunning); err != nil {
				return err
			}
			if _, err := s.UpdateStatus(ctx, "default", "loop", func(j *JobStatus) error {
				j.Message = strconv.Itoa(i)
				return nil
			}); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	return s.Close()
}

// startChild runs the test binary as a child in mode on dir and waits until
// it says it is ready. The child is killed at the end of the test.
func startChild(t *testing.T, mode, dir, arg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childDirEnv+"="+dir, childArgEnv+"="+arg)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == childReady {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	ok, _ := wait.For(t, 30*time.Second, "child "+mode+" to be ready", func() (bool, bool) {
		select {
		case ok := <-ready:
			return ok, true
		default:
			return false, false
		}
	})
	if !ok {
		t.Fatalf("child %s exited before it was ready", mode)
	}
	return cmd
}

// kill SIGKILLs a child and waits for it to be gone.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}
