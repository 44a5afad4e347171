package importer

import (
	pathpkg "path"
	"regexp"
	"strings"

	"github.com/muster-dev/muster/lang"
)

// Oasis Parcel: a JobSpec {name, image, cmd, env, cpus, memory,
// inputDocuments, outputDocuments, networkPolicy}, or a job {id, spec,
// status} as the API answers it. A Parcel job runs its image's ENTRYPOINT
// with cmd once, with its input documents under /parcel/data/in and its
// outputs collected from /parcel/data/out.

// Where Parcel mounts documents inside the container.
const (
	parcelIn  = "/parcel/data/in"
	parcelOut = "/parcel/data/out"
)

// docHashRE is a document named by its content: sha256:<hex> or the hex
// alone.
var docHashRE = regexp.MustCompile(`^(sha256:)?([0-9a-fA-F]{64})$`)

// parcelJob translates one Parcel job.
func parcelJob(c *conv, src *obj, j *job) {
	if src.has("spec") && !src.has("image") {
		v, p := src.value("spec")
		src.drop("set by Parcel, not by the job's author", "id", "status", "createdAt", "io", "owner")
		src.rest(func(string) string { return "not a field of a Parcel job (id, spec, status)" })
		if spec := c.object(v, p); spec != nil {
			parcelSpec(c, spec, j)
		}
		return
	}
	parcelSpec(c, src, j)
}

// parcelSpec translates a JobSpec.
func parcelSpec(c *conv, s *obj, j *job) {
	if v, p := s.value("name"); v != nil {
		c.setName(j, "name", v, p)
	}
	// A Parcel job runs once: a failed one is not run again.
	j.set("restart_policy", text("never", s.v.Range))
	image, iv, _ := s.stringValue("image", "dockerImage")
	if iv == nil {
		c.errorf(s.v.Range, s.sub("image"), "the job has no image")
	} else {
		j.set("task.engine", text("docker", iv.Range))
		j.set("task.image", text(image, iv.Range))
	}
	c.stringList(j, "task.cmd", s, "cmd")
	if v, p := s.value("env"); v != nil {
		c.bacalhauEnv(j, v, p)
	}
	if v, p := s.value("cpus"); v != nil {
		c.cpus(j, v, p)
	}
	if v, p := s.value("memory"); v != nil {
		c.parcelMemory(j, v, p)
	}
	if v, p := s.value("inputDocuments", "inputDatasets"); v != nil {
		for i, d := range c.list(v, p) {
			c.parcelInput(j, d, index(p, i))
		}
	}
	if v, p := s.value("outputDocuments", "outputDatasets"); v != nil {
		for i, d := range c.list(v, p) {
			c.parcelOutput(j, d, index(p, i))
		}
	}
	if v, p := s.value("networkPolicy"); v != nil {
		c.networkPolicy(j, v, p)
	}
	s.rest(func(string) string { return "not a field of a Parcel job spec" })
}

// parcelMemory writes memory, <n>M or <n>G as muster writes it.
func (c *conv) parcelMemory(j *job, v *lang.Value, path string) {
	s, ok := c.str(v, path)
	if !ok {
		return
	}
	if !memoryRE.MatchString(s) {
		c.errorf(v.Range, path, "memory %q is not <n>M or <n>G (at least 4M)", s)
		return
	}
	j.set("task.resources.memory", text(s, v.Range))
}

// mountPath reads the mountPath of a document, a path relative to dir,
// and returns the path inside the container.
func (c *conv) mountPath(o *obj, v *lang.Value, path, dir string) (string, *lang.Value) {
	mp, mv, mpath := o.stringValue("mountPath")
	if mv == nil {
		c.errorf(v.Range, path, "the document has no mountPath")
		return "", nil
	}
	full := pathpkg.Join(dir, mp)
	if mp == "" || !strings.HasPrefix(full, dir+"/") {
		c.errorf(mv.Range, mpath, "mountPath %q does not name a file under %s", mp, dir)
		return "", nil
	}
	return full, mv
}

// parcelInput translates an input document {id, mountPath}. Parcel names
// documents by an id of its own, which muster cannot read: only an id
// that is a sha256 content hash maps to a muster document.
func (c *conv) parcelInput(j *job, v *lang.Value, path string) {
	o := c.object(v, path)
	if o == nil {
		return
	}
	id, idv, idp := o.stringValue("id", "address")
	target, tv := c.mountPath(o, v, path, parcelIn)
	o.rest(func(string) string { return "not a field of an input document (id, mountPath)" })
	if idv == nil {
		c.errorf(v.Range, path, "the input document has no id")
		return
	}
	m := docHashRE.FindStringSubmatch(id)
	if m == nil {
		c.warnf(idv.Range, idp, "dropped: %q is a Parcel document id, not a content hash; store the document with muster doc put and add its sha256: hash to task.inputs with target %s", id, target)
		return
	}
	if tv != nil {
		j.add("task.inputs", object(v.Range, "source", text("sha256:"+strings.ToLower(m[2]), idv.Range), "target", text(target, tv.Range)))
	}
}

// parcelOutput translates an output document {mountPath, owner}.
func (c *conv) parcelOutput(j *job, v *lang.Value, path string) {
	o := c.object(v, path)
	if o == nil {
		return
	}
	full, mv := c.mountPath(o, v, path, parcelOut)
	o.drop("muster documents are content-addressed and have no owner", "owner")
	o.rest(func(string) string { return "not a field of an output document (mountPath, owner)" })
	if mv != nil {
		j.add("task.outputs", object(v.Range, "path", text(full, mv.Range)))
	}
}

// networkPolicy translates {egress: [{cidr}]}: a Parcel job reaches only
// the networks its policy lets out, and none without one. muster's bridge
// network, written for a policy that lets something out, reaches every
// host; the warning says so.
func (c *conv) networkPolicy(j *job, v *lang.Value, p string) {
	n := c.object(v, p)
	if n == nil {
		return
	}
	ev, ep := n.value("egress")
	n.rest(func(string) string { return "not a field of a network policy (egress)" })
	if ev == nil || empty(ev) {
		return
	}
	var cidrs []string
	for i, e := range c.list(ev, ep) {
		if o := c.object(e, index(ep, i)); o != nil {
			if cidr, _, _ := o.stringValue("cidr"); cidr != "" {
				cidrs = append(cidrs, cidr)
			}
			o.rest(func(string) string { return "not a field of an egress rule (cidr)" })
		}
	}
	j.set("task.network", text("bridge", ev.Range))
	c.warnf(ev.Range, ep, "muster cannot limit egress to %s: written as the bridge network, which reaches every host", strings.Join(cidrs, ", "))
}
