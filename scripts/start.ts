// `npm start` will run the real functions against loopback emulators of Sourcegraph, AWS and GCP. Until that local
// stack exists, say so plainly instead of pretending, and point at what does work today.
const message = `fleetplane: local stack not built yet.

The loopback emulators (Sourcegraph, AWS, GCP) that \`npm start\` will run the real scale function against are the
next piece of work. Until then:
  npm test                                   typecheck, lint and the full test suite (no cloud, no network)
  npm run build                              bundle the Lambda functions into dist/aws/
  npx osls package --param="config=examples/fleetplane.yml"   the CloudFormation for the AWS deployment
`;
process.stdout.write(message);
