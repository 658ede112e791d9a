package sqlmigrate_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store/sqlmigrate"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []sqlmigrate.Migration
		wantErr string
	}{
		{
			name: "ordered by number, not by name",
			fsys: fstest.MapFS{
				"m/10_later.sql": file("B"),
				"m/2_first.sql":  file("A"),
				"m/notes.txt":    file("ignored"),
			},
			want: []sqlmigrate.Migration{
				{Version: 2, Name: "2_first.sql", SQL: "A"},
				{Version: 10, Name: "10_later.sql", SQL: "B"},
			},
		},
		{name: "empty", fsys: fstest.MapFS{}},
		{
			name:    "no number",
			fsys:    fstest.MapFS{"m/init.sql": file("")},
			wantErr: "migration init.sql: name must start with a positive number and '_'",
		},
		{
			name:    "zero",
			fsys:    fstest.MapFS{"m/0_init.sql": file("")},
			wantErr: "migration 0_init.sql: name must start with a positive number and '_'",
		},
		{
			name:    "shared number",
			fsys:    fstest.MapFS{"m/0001_a.sql": file(""), "m/1_b.sql": file("")},
			wantErr: "share a number",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := sqlmigrate.Load(tc.fsys, "m")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
