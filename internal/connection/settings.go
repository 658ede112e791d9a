package connection

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/accordhq/accord/internal/store"
)

// EditSettings changes the connection's settings under its row lock:
// edit gets the stored settings and returns the new ones (checked against
// the provider's connection_settings) or an error, which is returned as
// it is. The audit entry names the settings that changed, never their
// values (an email is personal). New settings equal to the stored ones
// change nothing (changed false). OnChange is called after the commit, so
// caches holding the connection forget it and the next partner call uses
// the new values.
func (l *Lifecycle) EditSettings(ctx context.Context, tenantID, id, actor string,
	edit func(current map[string]string) (map[string]string, error),
) (store.Connection, bool, error) {
	c, changed, err := l.Change(ctx, tenantID, id, func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error) {
		settings, err := edit(maps.Clone(c.Settings))
		if err != nil {
			return nil, err
		}
		var names []string
		for _, k := range slices.Sorted(maps.Keys(union(c.Settings, settings))) {
			if c.Settings[k] != settings[k] {
				names = append(names, k)
			}
		}
		if len(names) == 0 {
			return nil, nil
		}
		if err := tx.SetConnectionSettings(ctx, tenantID, id, settings); err != nil {
			return nil, err
		}
		c.Settings = settings
		return &Entry{Actor: actor, Action: "connection.settings_changed", Detail: map[string]any{"settings": names}}, nil
	})
	if err != nil {
		return store.Connection{}, false, fmt.Errorf("changing connection settings: %w", err)
	}
	return c, changed, nil
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}
