import MoongateCore

/// Suggests the field a person probably meant when they wrote an unknown one, so a typo
/// such as `key_name:` is answered with "did you mean 'key_names'?".
enum FieldNameSuggestion {
    /// Edits (insert, delete, substitute) that still read as a typo.
    static let maximumDistance = 2

    /// The closest candidate within `maximumDistance` edits; ties go to the first
    /// candidate, so callers pass them in a stable order.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let typed = Array(word.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = EditDistance.levenshtein(typed, Array(candidate.lowercased()))
            // A distance as long as the candidate itself is a different word, not a typo.
            guard distance <= maximumDistance, distance < candidate.count else { continue }
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// The suffix for an "unknown ..." message: ` (did you mean 'x'?)`, or nothing.
    static func hint(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }
}
