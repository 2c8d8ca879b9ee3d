// Command ocm is Open Cluster Management's registration, work, placement, addon and
// registration-operator commands in one binary (one link instead of five). Started through a link
// named after an upstream binary, it is that binary: the same subcommands, flags and feature gates as
// open-cluster-management.io/ocm's cmd/<name>/main.go.
package main

import (
	goflag "flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"

	ocmfeature "open-cluster-management.io/api/feature"
	addonwebhook "open-cluster-management.io/ocm/pkg/addon/webhook"
	"open-cluster-management.io/ocm/pkg/cmd/hub"
	"open-cluster-management.io/ocm/pkg/cmd/spoke"
	"open-cluster-management.io/ocm/pkg/cmd/webhook"
	commonoptions "open-cluster-management.io/ocm/pkg/common/options"
	"open-cluster-management.io/ocm/pkg/features"
	registrationwebhook "open-cluster-management.io/ocm/pkg/registration/webhook"
	"open-cluster-management.io/ocm/pkg/version"
	workwebhook "open-cluster-management.io/ocm/pkg/work/webhook"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

type binary struct {
	hubFeatureGates []map[featuregate.Feature]featuregate.FeatureSpec // none: the binary has no hub gates
	subcommands     []func() *cobra.Command
}

func gates(sets ...map[featuregate.Feature]featuregate.FeatureSpec) []map[featuregate.Feature]featuregate.FeatureSpec {
	return sets
}

var binaries = map[string]binary{
	"registration": {gates(ocmfeature.DefaultHubRegistrationFeatureGates), []func() *cobra.Command{
		hub.NewRegistrationController, spoke.NewRegistrationAgent, webhook.NewRegistrationWebhook}},
	"work": {gates(ocmfeature.DefaultHubWorkFeatureGates), []func() *cobra.Command{
		spoke.NewWorkAgent, webhook.NewWorkWebhook, hub.NewWorkController}},
	"placement": {nil, []func() *cobra.Command{hub.NewPlacementController}},
	"addon":     {nil, []func() *cobra.Command{hub.NewAddonManager, webhook.NewAddonWebhook}},
	"registration-operator": {nil, []func() *cobra.Command{
		hub.NewHubOperatorCmd, spoke.NewKlusterletOperatorCmd, spoke.NewKlusterletAgentCmd}},
	// Not an upstream binary: the registration, work and addon webhook servers in one process. Each
	// upstream server starts its own controller-runtime manager whose health probe is hard-coded to
	// :8000, so on one machine only one of them can run; here they share one manager (one port).
	"webhooks": {gates(ocmfeature.DefaultHubRegistrationFeatureGates, ocmfeature.DefaultHubWorkFeatureGates),
		[]func() *cobra.Command{newWebhooksCommand}},
}

func main() {
	// controller-runtime's metrics server (the addon webhook's) would listen on every interface at the
	// fixed port 8080; nothing scrapes it here, and "0" is controller-runtime's documented "off".
	metricsserver.DefaultBindAddress = "0"
	name := filepath.Base(os.Args[0])
	b, ok := binaries[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: start me as registration, work, placement, addon, registration-operator or webhooks (a link to this file)\n", name)
		os.Exit(2)
	}
	pflag.CommandLine.SetNormalizeFunc(utilflag.WordSepNormalizeFunc)
	pflag.CommandLine.AddGoFlagSet(goflag.CommandLine)
	logs.AddFlags(pflag.CommandLine)
	logs.InitLogs()
	defer logs.FlushLogs()
	for _, set := range b.hubFeatureGates {
		utilruntime.Must(features.HubMutableFeatureGate.Add(set))
	}
	if len(b.hubFeatureGates) > 0 {
		features.HubMutableFeatureGate.AddFlag(pflag.CommandLine)
	}
	if err := newCommand(name, b).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		logs.FlushLogs()
		os.Exit(1)
	}
}

func newWebhooksCommand() *cobra.Command {
	webhookOptions := commonoptions.NewWebhookOptions()
	workOptions := workwebhook.NewOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve OCM's registration, work and addon (conversion) webhooks on one port",
		RunE: func(c *cobra.Command, args []string) error {
			if err := registrationwebhook.SetupWebhookServer(webhookOptions); err != nil {
				return err
			}
			if err := workOptions.SetupWebhookServer(webhookOptions); err != nil {
				return err
			}
			if err := addonwebhook.SetupWebhookServer(webhookOptions); err != nil {
				return err
			}
			return webhookOptions.RunWebhookServer(ctrl.SetupSignalHandler())
		},
	}
	webhookOptions.AddFlags(cmd.Flags())
	workOptions.AddFlags(cmd.Flags())
	return cmd
}

func newCommand(name string, b binary) *cobra.Command {
	cmd := &cobra.Command{
		Use: name,
		Run: func(cmd *cobra.Command, args []string) {
			_ = cmd.Help()
			os.Exit(1)
		},
	}
	cmd.Version = version.Get().String()
	if cmd.Version == "" {
		cmd.Version = "<unknown>"
	}
	for _, sub := range b.subcommands {
		cmd.AddCommand(sub())
	}
	return cmd
}
