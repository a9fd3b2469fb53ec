/// The routes that apply to one host pattern (an exact host, one wildcard suffix, or
/// "any host"), indexed by path kind so that a lookup never scans unrelated routes.
struct RouteHostBucket: Sendable {
    /// A regex path of a route, with its position among all regexes of the
    /// configuration (route order, then path order), which decides between regexes.
    struct RegexRoute: Sendable {
        let listingPosition: Int
        let entry: RouteEntry
        /// The regex's first pre-check, kept here so that most candidates are ruled
        /// out without dereferencing `regex`.
        let head: RegexLiteralPrefilter.Head
        let regex: RoutePathRegex
    }

    /// `RoutePrecedence.hostSpecificity` of every route in this bucket.
    let hostSpecificity: Int
    /// Exact path → index into `exactPathRoutes`.
    private var exactPaths = ByteKeyTable()
    private var exactPathRoutes: [[RouteEntry]] = []
    private(set) var prefixes = RoutePrefixTrie()
    /// In listing order, so the first that matches is the one that wins.
    private(set) var regexes: [RegexRoute] = []
    private(set) var routesWithoutPaths: [RouteEntry] = []

    var isEmpty: Bool {
        exactPaths.isEmpty && prefixes.isEmpty && regexes.isEmpty && routesWithoutPaths.isEmpty
    }

    init(hostSpecificity: Int) {
        self.hostSpecificity = hostSpecificity
    }

    /// The routes with exactly this path (UTF-8 of a normalised path), best first.
    func routes(forExactPath path: UnsafeBufferPointer<UInt8>) -> [RouteEntry]? {
        guard !exactPaths.isEmpty, let list = exactPaths.value(namespace: 0, key: path) else { return nil }
        return exactPathRoutes[list]
    }

    mutating func add(exactPath: String, entry: RouteEntry) {
        let list = exactPaths.value(namespace: 0, key: exactPath.utf8, orInsert: exactPathRoutes.count)
        if list == exactPathRoutes.count { exactPathRoutes.append([]) }
        exactPathRoutes[list].append(entry)
    }

    mutating func add(prefix: String, entry: RouteEntry) {
        prefixes.insert(prefix: prefix, entry: entry)
    }

    /// Regexes must be added in listing order.
    mutating func add(regex: RoutePathRegex, listingPosition: Int, entry: RouteEntry) {
        precondition(
            regexes.last.map { $0.listingPosition <= listingPosition } ?? true, "regexes added out of listing order")
        regexes.append(
            RegexRoute(listingPosition: listingPosition, entry: entry, head: regex.prefilter.head, regex: regex))
    }

    mutating func addWithoutPaths(entry: RouteEntry) {
        routesWithoutPaths.append(entry)
    }

    /// Puts every route list best first (see `RouteEntry`); call once after the last add.
    mutating func sortEntries() {
        for list in exactPathRoutes.indices { exactPathRoutes[list].sort() }
        prefixes.sortEntries()
        routesWithoutPaths.sort()
    }
}
