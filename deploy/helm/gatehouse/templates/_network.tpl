{{/* IPv4 CIDR arithmetic for the NetworkPolicies: cutting the IdP out of the workers' ranges. */}}

{{/* "a.b.c.d" -> its 32-bit value, as a decimal string. */}}
{{- define "gatehouse.ipv4Int" -}}
{{- $o := splitList "." . -}}
{{- add (mul (atoi (index $o 0)) 16777216) (mul (atoi (index $o 1)) 65536) (mul (atoi (index $o 2)) 256) (atoi (index $o 3)) -}}
{{- end -}}

{{/*
How (dict "outer" CIDR "inner" CIDR) relate: "equal", "strict" (inner lies inside outer and is
smaller) or "" (neither, or either is IPv6, which this chart does not compute).
*/}}
{{- define "gatehouse.cidrRelation" -}}
{{- if and (not (contains ":" .outer)) (not (contains ":" .inner)) -}}
{{- $o := splitList "/" .outer -}}
{{- $i := splitList "/" .inner -}}
{{- $p := atoi (default "32" (index $o 1)) -}}
{{- $q := atoi (default "32" (index $i 1)) -}}
{{- if ge $q $p -}}
{{- $size := 1 -}}
{{- range until (sub 32 $p | int) -}}{{- $size = mul $size 2 -}}{{- end -}}
{{- $a := include "gatehouse.ipv4Int" (index $o 0) | atoi -}}
{{- $b := include "gatehouse.ipv4Int" (index $i 0) | atoi -}}
{{- if eq (div $a $size) (div $b $size) -}}
{{- ternary "equal" "strict" (eq $q $p) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A worker's egress peers for one named destination, as a JSON list, with every IdP range that lies
strictly inside one of its ipBlocks added to that block's `except`. A peer that equals an IdP peer
(or a range equal to an IdP range) fails the render unless networkPolicy.allowWorkerIdpOverlap.
(dict "root" $ "name" "git")
*/}}
{{- define "gatehouse.workerPeers" -}}
{{- $np := .root.Values.networkPolicy -}}
{{- $idp := $np.destinations.idp.to -}}
{{- $peers := list -}}
{{- range $peer := (get $np.destinations .name).to -}}
{{- $peer = deepCopy $peer -}}
{{- range $idpPeer := $idp -}}
{{- if and $peer.ipBlock $idpPeer.ipBlock -}}
{{- $rel := include "gatehouse.cidrRelation" (dict "outer" $peer.ipBlock.cidr "inner" $idpPeer.ipBlock.cidr) -}}
{{- if eq $rel "strict" -}}
{{- $except := default (list) $peer.ipBlock.except -}}
{{- if not (has $idpPeer.ipBlock.cidr $except) -}}
{{- $_ := set $peer.ipBlock "except" (append $except $idpPeer.ipBlock.cidr) -}}
{{- end -}}
{{- else if and (eq $rel "equal") (not $np.allowWorkerIdpOverlap) -}}
{{- fail (printf "networkPolicy: the workers' %s range %s is the IdP's range: a worker (and a CI step with network) could reach the IdP. List the IdP's own CIDRs in networkPolicy.destinations.idp.to, narrow %s, or set networkPolicy.allowWorkerIdpOverlap" $.name $peer.ipBlock.cidr $.name) -}}
{{- end -}}
{{- else if and (eq (toJson $peer) (toJson $idpPeer)) (not $np.allowWorkerIdpOverlap) -}}
{{- fail (printf "networkPolicy: the workers' %s destination names the IdP's peer %s" $.name (toJson $idpPeer)) -}}
{{- end -}}
{{- end -}}
{{- $peers = append $peers $peer -}}
{{- end -}}
{{- toJson $peers -}}
{{- end -}}
