/// The prefix paths of one host bucket, as a trie of path segments, so that finding
/// every prefix of a request path costs one table lookup per segment of the path,
/// however many prefixes are configured.
///
/// Prefixes match element-wise (SPEC §2): `/orders` matches `/orders`, `/orders/` and
/// `/orders/1` but not `/ordersx`. A prefix with a trailing slash, `/orders/`, matches
/// only what lies under the directory: `/orders/` and `/orders/1`, not `/orders`; `/`
/// matches every path. So each node keeps two lists: routes whose prefix ends at the
/// node (`/orders`), matching when the path ends there or continues with `/`, and
/// routes whose prefix is the node plus `/` (`/orders/`), matching only when the path
/// continues with `/`.
struct RoutePrefixTrie: Sendable {
    private struct Node: Sendable {
        /// Routes with a prefix ending at this node (no trailing slash).
        var atNode: [RouteEntry] = []
        /// Routes with this node's path plus a trailing slash.
        var underNode: [RouteEntry] = []
        /// The two prefixes as configured (normalised), reported as `matchedPrefix`.
        var atNodePrefix = ""
        var underNodePrefix = "/"
    }

    /// Node 0 is the root (the path `/`).
    private var nodes = [Node()]
    /// Edges: (parent node, segment) → child node.
    private var edges = ByteKeyTable()

    var isEmpty: Bool { edges.isEmpty && nodes[0].underNode.isEmpty }

    /// Adds a normalised prefix (starting with `/`).
    mutating func insert(prefix: String, entry: RouteEntry) {
        var node = 0
        let isDirectory = prefix.utf8.last == UInt8(ascii: "/")
        var rest = prefix.utf8.dropFirst()
        if isDirectory && !rest.isEmpty { rest = rest.dropLast() }
        if !rest.isEmpty {
            for segment in rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
                node = edges.value(namespace: node, key: segment, orInsert: nodes.count)
                if node == nodes.count { nodes.append(Node()) }
            }
        }
        if isDirectory {
            nodes[node].underNode.append(entry)
            nodes[node].underNodePrefix = prefix
        } else {
            nodes[node].atNode.append(entry)
            nodes[node].atNodePrefix = prefix
        }
    }

    /// Puts every list best first (see `RouteEntry`); call once after the last insert.
    mutating func sortEntries() {
        for index in nodes.indices {
            nodes[index].atNode.sort()
            nodes[index].underNode.sort()
        }
    }

    /// Calls `body` with each list of routes whose prefix matches `path` (the UTF-8 of
    /// a normalised path) and that prefix, shortest prefix first.
    func forEachMatch(in path: UnsafeBufferPointer<UInt8>, _ body: (_ entries: [RouteEntry], _ prefix: String) -> Void) {
        guard path.first == UInt8(ascii: "/") else { return }
        if !nodes[0].underNode.isEmpty { body(nodes[0].underNode, nodes[0].underNodePrefix) }
        guard !edges.isEmpty else { return }
        var node = 0
        var segmentStart = 1
        while segmentStart < path.count {
            var segmentEnd = segmentStart
            while segmentEnd < path.count && path[segmentEnd] != UInt8(ascii: "/") { segmentEnd += 1 }
            let segment = UnsafeBufferPointer(rebasing: path[segmentStart..<segmentEnd])
            guard let child = edges.value(namespace: node, key: segment) else { return }
            node = child
            if !nodes[node].atNode.isEmpty { body(nodes[node].atNode, nodes[node].atNodePrefix) }
            guard segmentEnd < path.count else { return }
            if !nodes[node].underNode.isEmpty { body(nodes[node].underNode, nodes[node].underNodePrefix) }
            segmentStart = segmentEnd + 1
        }
    }
}
