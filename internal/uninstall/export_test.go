package uninstall

// SetAfterStep makes the job stop after step, as a crash would.
func (u *Uninstaller) SetAfterStep(fn func(step string) error) { u.afterStep = fn }
