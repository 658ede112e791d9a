// Package row holds what the SQL store implementations (store/sqlite and
// store/postgres) do alike around their SQL: defaults and argument checks,
// the JSON encodings of columns, assembling structs from scanned values,
// collecting result sets, and the wording of the errors they return. It
// holds no SQL and imports no driver: each dialect classifies its driver's
// errors (Kind) and encodes its own timestamps.
package row
