package engine

// ForgetConnection drops the connection from the engine's lookup cache:
// after an edit that changes how its partner is called (its settings),
// the next write reads it afresh instead of within the cache's lifetime.
func (e *Engine) ForgetConnection(tenantID, id string) { e.cache.forgetConnection(tenantID, id) }
