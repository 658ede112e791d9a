package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is read when neither --config nor ACCORD_CONFIG names a file;
// it is optional, unlike a named one.
const DefaultFile = "accord.yaml"

// Loader binds Config's settings to a flag set, then resolves them.
type Loader struct {
	fs         *flag.FlagSet
	configPath *string
	flagValues map[string]*string
	// Env looks up an environment variable; os.LookupEnv by default.
	Env func(string) (string, bool)
}

// Bind registers --config and one flag per Config field on fs.
func Bind(fs *flag.FlagSet) *Loader {
	l := &Loader{fs: fs, flagValues: map[string]*string{}, Env: os.LookupEnv}
	l.configPath = fs.String("config", "", "process config file (default ./"+DefaultFile+" if present; env ACCORD_CONFIG)")
	for _, f := range fields() {
		def := f.def
		if f.secret {
			def = ""
		}
		typ := reflect.TypeOf(Config{}).Field(f.index).Type
		v := &rawFlag{value: def, isBool: typ.Kind() == reflect.Bool}
		usage := f.usage + " (env " + f.env + ")"
		if !v.isBool {
			// flag.PrintDefaults names the value after a backquoted word.
			name := typ.Name()
			if typ == reflect.TypeFor[time.Duration]() {
				name = "duration"
			}
			usage = f.usage + " (`" + name + "`, env " + f.env + ")"
		}
		fs.Var(v, f.flag, usage)
		l.flagValues[f.flag] = &v.value
	}
	return l
}

// rawFlag keeps a flag's text until Load converts it, so a flag given
// explicitly can be told from the default. Bool settings are bool flags:
// --no-migrate alone means true.
type rawFlag struct {
	value  string
	isBool bool
}

func (f *rawFlag) String() string     { return f.value }
func (f *rawFlag) Set(s string) error { f.value = s; return nil }
func (f *rawFlag) IsBoolFlag() bool   { return f.isBool }

// Load resolves the configuration after fs.Parse: defaults, then the file,
// then the environment, then the flags given on the command line.
func (l *Loader) Load() (*Config, error) {
	cfg := Defaults()
	path, required := *l.configPath, true
	if path == "" {
		if v, ok := l.Env("ACCORD_CONFIG"); ok && v != "" {
			path = v
		} else {
			path, required = DefaultFile, false
		}
	}
	if err := loadFile(cfg, path, required); err != nil {
		return nil, err
	}
	v := reflect.ValueOf(cfg).Elem()
	for _, f := range fields() {
		if raw, ok := l.Env(f.env); ok {
			if err := setField(v.Field(f.index), raw); err != nil {
				return nil, fmt.Errorf("%w: env %s: %v", ErrInvalid, f.env, err)
			}
		}
	}
	set := map[string]bool{}
	l.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, f := range fields() {
		if set[f.flag] {
			if err := setField(v.Field(f.index), *l.flagValues[f.flag]); err != nil {
				return nil, fmt.Errorf("%w: flag --%s: %v", ErrInvalid, f.flag, err)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Defaults returns a Config holding every documented default.
func Defaults() *Config {
	cfg := &Config{}
	v := reflect.ValueOf(cfg).Elem()
	for _, f := range fields() {
		if err := setField(v.Field(f.index), f.def); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", f.yaml, err))
		}
	}
	return cfg
}

func loadFile(cfg *Config, path string, required bool) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	if len(root.Content) == 0 {
		return nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: %s:%d:%d: expected a mapping of settings", ErrInvalid, path, doc.Line, doc.Column)
	}
	byKey := map[string]field{}
	var keys []string
	for _, f := range fields() {
		byKey[f.yaml] = f
		keys = append(keys, f.yaml)
	}
	v := reflect.ValueOf(cfg).Elem()
	var errs []error
	// yaml.Node keeps every occurrence of a key; a silently "last one wins"
	// duplicate is how a setting someone changed turns out not to apply.
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, val := doc.Content[i], doc.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			errs = append(errs, fmt.Errorf("%w: %s:%d:%d: setting %q is given twice (first at line %d); keep one", ErrInvalid, path, k.Line, k.Column, k.Value, first.Line))
			continue
		}
		seen[k.Value] = k
		f, ok := byKey[k.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s:%d:%d: unknown setting %q%s", ErrInvalid, path, k.Line, k.Column, k.Value, suggest(k.Value, keys)))
			continue
		}
		if val.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%w: %s:%d:%d: %s takes a single value", ErrInvalid, path, val.Line, val.Column, k.Value))
			continue
		}
		value := val.Value
		if pathSettings[k.Value] {
			value = relativeTo(filepath.Dir(path), value)
		}
		if err := setField(v.Field(f.index), value); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s:%d:%d: %s: %v", ErrInvalid, path, val.Line, val.Column, k.Value, err))
		}
	}
	return errors.Join(errs...)
}

// pathSettings name files and directories: relative ones in a config file
// are relative to that file, not to wherever the process was started.
var pathSettings = map[string]bool{"db": true, "packs": true, "master_key_file": true, "master_key_previous_file": true}

// relativeTo resolves a relative path value (or the path of a sqlite:
// database) against dir; absolute paths, DSNs and empty values are kept.
func relativeTo(dir, value string) string {
	if value == "" {
		return value
	}
	if rest, ok := strings.CutPrefix(value, "sqlite:"); ok {
		if rest == "" || rest == ":memory:" || strings.HasPrefix(rest, "file:") || filepath.IsAbs(rest) {
			return value
		}
		return "sqlite:" + filepath.Join(dir, rest)
	}
	if strings.Contains(value, "://") || filepath.IsAbs(value) {
		return value
	}
	return filepath.Join(dir, value)
}

type field struct {
	index                       int
	yaml, env, flag, def, usage string
	secret                      bool
}

func fields() []field {
	t := reflect.TypeOf(Config{})
	out := make([]field, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		out = append(out, field{
			index: i, yaml: sf.Tag.Get("yaml"), env: sf.Tag.Get("env"), flag: sf.Tag.Get("flag"),
			def: sf.Tag.Get("def"), usage: sf.Tag.Get("usage"), secret: sf.Tag.Get("secret") == "true",
		})
	}
	return out
}

func setField(v reflect.Value, raw string) error {
	switch v.Interface().(type) {
	case string:
		v.SetString(raw)
	case bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		v.SetBool(b)
	case int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		v.SetInt(int64(n))
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", raw)
		}
		v.SetInt(int64(d))
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

// Describe lists every setting with its file key, environment variable,
// flag and value, secrets masked: what `accord serve` logs at start.
func (c *Config) Describe() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		val := fmt.Sprint(v.Field(f.index).Interface())
		if f.secret && val != "" {
			val = "[redacted]"
		}
		if f.yaml == "db" {
			val = redactDSN(val)
		}
		out[f.yaml] = val
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the closest key, or "".
func suggest(got string, keys []string) string {
	best, bestD := "", 1<<30
	for _, k := range keys {
		if d := levenshtein(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" || bestD > max(2, len(got)/3) {
		var b bytes.Buffer
		b.WriteString("; valid settings: ")
		b.WriteString(strings.Join(keys, ", "))
		return b.String()
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
