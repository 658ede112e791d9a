package row

// Scanner is a single row or a result set's current row.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result set (*sql.Rows, pgx.Rows); closing it is the caller's.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect scans every row of rows.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
