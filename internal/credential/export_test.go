package credential

// CacheLen exposes the number of cached data keys to tests.
func CacheLen(v *Vault) int { return v.cache.len() }
