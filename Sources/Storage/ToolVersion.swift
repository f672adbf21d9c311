/// The netosis release and the git commit of this build (`buildCommit` is generated before every
/// build by Plugins/BuildInfo). Written as `tool_version` into every file netosis makes, so a
/// result can be traced to the exact code that produced it.
public enum ToolVersion {
    public static let release = "0.1.0"
    /// Short commit hash, with ".dirty" when the tree had uncommitted changes; "unknown" outside git.
    public static let commit = buildCommit
    /// "0.1.0+abc1234def" (semantic-versioning build metadata).
    public static var string: String { "\(release)+\(commit)" }
}
