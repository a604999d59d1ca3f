// node tools/diagram_source.js TREE_JSON TARGET_DOT
// cdk-dia's Graphviz source for a tree.json, through cdk-dia's public API with the CLI's defaults
// (collapse L2 constructs, collapse clusters with one cluster child), without the PNG step that the
// CLI always runs: the source needs no Graphviz, and tools/diagram.py renders the picture itself.
const path = require("path");
const dia = require("cdk-dia");

const [treeFile, targetFile] = process.argv.slice(2);
if (!treeFile || !targetFile) {
  console.error("usage: node tools/diagram_source.js TREE_JSON TARGET_DOT");
  process.exit(2);
}
const packageDirectory = path.dirname(require.resolve("cdk-dia/package.json"));
const generator = new dia.AwsDiagramGenerator(new dia.AwsEdgeResolver(), new dia.AwsIconSupplier(packageDirectory));
const diagram = generator.generate(dia.TreeJsonLoader.load(path.resolve(treeFile)), true, true, false, undefined);
new dia.Graphviz().renderToDot(diagram, targetFile);
