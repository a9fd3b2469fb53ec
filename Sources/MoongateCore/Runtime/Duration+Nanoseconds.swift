extension Duration {
    /// The duration in whole nanoseconds, for the monotonic-nanosecond clocks the
    /// upstream logic takes as `now:` (negative durations count as 0, and durations
    /// past UInt64's range as `.max`).
    public var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : total
    }
}
