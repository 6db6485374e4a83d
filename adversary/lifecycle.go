package adversary

// LifecycleFault is a fault the runner carries out on the replica itself:
// crash-stop, crash-recover, pause or twins. It does not touch messages.
type LifecycleFault struct {
	Kind LifecycleKind
}

// Name implements Behaviour.
func (l *LifecycleFault) Name() string { return l.Kind.String() }

// Outbound implements Behaviour.
func (l *LifecycleFault) Outbound(_ *Context, p Packet) []Packet { return []Packet{p} }

// Lifecycle implements Lifecycle.
func (l *LifecycleFault) Lifecycle() LifecycleKind { return l.Kind }
