// Command kube is kube-apiserver, kube-controller-manager, kube-scheduler and kubectl of
// k8s.io/kubernetes in one binary (one link instead of four): it runs the component named by the file it
// is started as, so hack/ installs it once and links each name to it. kubectl is here for chart-testing
// (`ct install` calls it), at the same version as the control plane it talks to.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata" // CronJob time zones, as upstream's mains

	"github.com/spf13/cobra"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubeconfig auth plugins, as upstream's kubectl
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

var components = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubectl":                 kubectl.NewDefaultKubectlCommand,
}

func main() {
	name := filepath.Base(os.Args[0])
	newCommand, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: start me as kube-apiserver, kube-controller-manager, kube-scheduler or kubectl (a link to this file)\n", name)
		os.Exit(2)
	}
	if name == "kubectl" { // kubectl prints its own errors, and exits as upstream's does
		if err := cli.RunNoErrOutput(newCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
		return
	}
	os.Exit(cli.Run(newCommand()))
}
