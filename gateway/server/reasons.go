package server

// Reasons passed to Hooks. The set is closed so they can be metric labels.
const (
	ReasonPeer         = "peer"          // the terminal closed or reset the connection
	ReasonIdle         = "idle"          // nothing received for IdleTimeout
	ReasonSlowReader   = "slow_reader"   // answers piled up beyond MaxPendingWrite
	ReasonReadOverflow = "read_overflow" // sent too far ahead while paused (MaxPendingRead)
	ReasonFrame        = "frame_error"   // LEN out of bounds
	ReasonHandler      = "handler_close" // the Handler asked to close after its answer
	ReasonPanic        = "handler_panic" // the Handler panicked; the connection is dropped
	ReasonShutdown     = "shutdown"      // Shutdown closed it, or refused it while draining
	ReasonOverCapacity = "over_capacity" // refused at accept: MaxConns reached
	ReasonIOError      = "io_error"      // a socket error other than a clean close

	ReasonTooLarge = "too_large" // frame error: LEN above MaxFrame
	ReasonTooShort = "too_short" // frame error: LEN below the TPDU+header size
)
