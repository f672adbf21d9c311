import Foundation
import PackagePlugin

/// Stamps the build with the git commit it was made from (`tool_version` in every file netosis
/// writes). A prebuild command runs on every build; the script rewrites its output only when the
/// commit changes, so an unchanged tree does not recompile.
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = context.package.directoryURL.appending(path: "tools/build-info.sh")
        return [.prebuildCommand(displayName: "netosis build info (git commit)",
                                 executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: [script.path, context.package.directoryURL.path,
                                             output.appending(path: "BuildCommit.swift").path],
                                 outputFilesDirectory: output)]
    }
}
