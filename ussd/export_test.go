package ussd

// ForgetLiveSessions makes the engine read every session back from the store
// on its next hop, as after a restart.
func ForgetLiveSessions(e *Engine) { e.live.reset() }
