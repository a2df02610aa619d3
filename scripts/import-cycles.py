#!/usr/bin/env python3
"""Lists cycles of imports between the files of src/ (`use crate::…`, `use super::…`, paths
through a `use`d module, a mod.rs's own children); exits 1 when there is one. Run from the
repository root: `make cycles`."""
import re,os,sys
root='src'
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f); files[p]=open(p).read()
def modpath(p):
    rel=p[len(root)+1:-3].split('/')
    if rel[-1] in ('mod','lib','main'): rel=rel[:-1]
    return rel
mods={tuple(modpath(p)):p for p in files}
def resolve(path):
    for i in range(len(path),0,-1):
        if tuple(path[:i]) in mods: return mods[tuple(path[:i])]
    return None
edges={p:set() for p in files}
for p,src in files.items():
    me=modpath(p)
    is_mod = p.endswith(('mod.rs','lib.rs','main.rs'))
    code=re.sub(r'//.*','',src)
    code=re.split(r'#\[cfg\(test\)\]\s*mod tests',code)[0]
    parent = me[:-1]
    # aliases: use super::{a, b::c} / use crate::x::y; names -> module path
    alias={}
    for m in re.finditer(r'\buse\s+(crate|super|self)::([^;]*);',code,re.S):
        base = [] if m.group(1)=='crate' else (parent if m.group(1)=='super' else me)
        body=m.group(2)
        # flatten simple groups
        def expand(prefix, body):
            body=body.strip()
            if body.startswith('{') and body.endswith('}'):
                parts=[];depth=0;cur=''
                for c in body[1:-1]:
                    if c=='{':depth+=1
                    if c=='}':depth-=1
                    if c==',' and depth==0: parts.append(cur);cur=''
                    else: cur+=c
                parts.append(cur)
                out=[]
                for q in parts:
                    if q.strip(): out+=expand(prefix,q)
                return out
            if '::' in body:
                head,rest=body.split('::',1)
                return expand(prefix+[head.strip()],rest)
            return [prefix+[body.split(' as ')[0].strip()]]
        for path in expand(base, body):
            if path[-1]=='*':
                t=resolve(path[:-1])
            else:
                t=resolve(path)
                alias[path[-1]]=path
            if t and t!=p: edges[p].add(t)
    # direct crate::/super:: paths anywhere
    for m in re.finditer(r'\b(crate|super)((?:::[A-Za-z_][A-Za-z_0-9]*)+)',code):
        segs=m.group(2).split('::')[1:]
        base=[] if m.group(1)=='crate' else parent
        while segs and segs[0]=='super': base=base[:-1]; segs=segs[1:]
        t=resolve(base+segs)
        if t and t!=p: edges[p].add(t)
    # relative paths: child modules (mod.rs) or aliases
    for m in re.finditer(r'(?<![:\w])([a-z_][a-z_0-9]*)::',code):
        name=m.group(1)
        if name in ('crate','super','self','std','core','alloc'): continue
        cand=None
        if name in alias: cand=resolve(alias[name])
        elif is_mod and tuple(me+[name]) in mods: cand=mods[tuple(me+[name])]
        if cand and cand!=p: edges[p].add(cand)
idx={};low={};st=[];on=set();res=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: res.append(comp)
for v in edges:
    if v not in idx: sc(v)
for comp in res:
    print('cycle group:',sorted(comp))
    for a in sorted(comp):
        for b in sorted(edges[a]):
            if b in comp: print('   ',a,'->',b)
print(len(res),'groups')
sys.exit(1 if res else 0)
