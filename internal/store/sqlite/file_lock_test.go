package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// TestOpenTwiceInProcess: a second Store on the same file fails until the
// first is closed.
func TestOpenTwiceInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	first, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)

	_, err = sqlite.Open(ctx, path, nil)
	require.ErrorIs(t, err, sqlite.ErrInUse)
	require.ErrorContains(t, err, fmt.Sprintf("sqlite: %s is already in use by another Accord process (pid %d)", path, os.Getpid()))
	require.ErrorContains(t, err, "use PostgreSQL (--db postgres://…) to run several")

	require.NoError(t, first.Close())
	second, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err, "closed: free again")
	require.NoError(t, second.Close())
}

// TestOpenHeldByAnotherProcess re-executes the test binary as a holder
// process: while it runs, Open fails and names its pid; once it is gone
// (killed, not closed: the kernel drops the lock), Open succeeds.
func TestOpenHeldByAnotherProcess(t *testing.T) {
	t.Parallel()
	if path := os.Getenv("ACCORD_SQLITE_LOCK_HOLDER"); path != "" {
		holdAndWait(path)
		return
	}
	path := filepath.Join(t.TempDir(), "a.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenHeldByAnotherProcess$")
	cmd.Env = append(os.Environ(), "ACCORD_SQLITE_LOCK_HOLDER="+path)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "held\n", line)

	_, err = sqlite.Open(context.Background(), path, nil)
	require.ErrorIs(t, err, sqlite.ErrInUse)
	require.ErrorContains(t, err, "(pid "+strconv.Itoa(cmd.Process.Pid)+")")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	_ = stdin.Close()
	s, err := sqlite.Open(context.Background(), path, nil)
	require.NoError(t, err, "the dead holder's lock is gone")
	require.NoError(t, s.Close())
}

func holdAndWait(path string) {
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer s.Close()
	fmt.Println("held")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent goes
}

// TestFileModes: the database and its companions are readable by Accord's
// user alone, whatever the umask (022 in tests would give 0644).
func TestFileModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "n"}))
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		fi, err := os.Stat(p)
		require.NoError(t, err, p)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
}
