//go:build crds

// Package crds pins open-cluster-management.io/api, whose CustomResourceDefinitions the project
// validates against and installs on the test fleet's hub; hack/install-go-tools.sh copies them from
// the module (checked against go.sum) into .tools/ocm-crds. Nothing here is compiled.
package crds

import (
	_ "open-cluster-management.io/api/addon/v1alpha1"
	_ "open-cluster-management.io/api/cluster/v1beta1"
	_ "open-cluster-management.io/api/work/v1alpha1"
)
