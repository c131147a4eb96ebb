import re,sys,glob,os
def figs(path):
    t=open(path).read()
    out={}
    secs=re.split(r'\n== ', '\n'+t)
    for s in secs:
        name=s.split('\n')[0].strip()
        rps=re.search(r'Requests/sec:\s+([\d.]+)', s)
        p99=re.search(r'\n\s+99%\s+([\d.]+)(ms|us|s)', s)
        if name.startswith('client_credentials grant, EdDSA'): out['cc EdDSA']=rps.group(1)
        elif name.startswith('client_credentials grant, ES256'): out['cc ES256']=rps.group(1)
        elif name.startswith('client_credentials grant, RS256'): out['cc RS256']=rps.group(1)
        elif name.startswith('JWKS'): out['JWKS']=rps.group(1)
        elif name.startswith('discovery'): out['discovery']=rps.group(1)
        elif name.startswith('introspection, 100000'): out['introspect 100k']=rps.group(1)
        elif name.startswith('introspection'): out['introspect']=rps.group(1)
        elif name.startswith('authorization code'): out['code flows']=re.search(r'(\d+) flows/s', s).group(1)
        elif name.startswith('refresh token rotations'): out['rotations']=re.search(r'(\d+) rotations/s', s).group(1)
        elif name.startswith('password sign-ins'): out['sign-ins']=rps.group(1)
        elif name.startswith('client_credentials EdDSA p99'):
            a=re.search(r'alone:\s+99%\s+([\d.]+)ms', s); b=re.search(r'beside sign-ins:\s+99%\s+([\d.]+)ms', s)
            out['p99 ratio']='%.2f' % (float(b.group(1))/float(a.group(1)))
    return out
rows={}
for label,path in sys.argv[1:] and [a.split('=',1) for a in sys.argv[1:]]:
    rows[label]=figs(path)
keys=['cc EdDSA','cc ES256','cc RS256','JWKS','discovery','introspect','introspect 100k','code flows','rotations','sign-ins','p99 ratio']
labels=list(rows)
print('| figure | '+' | '.join(labels)+' |')
print('|---|'+'---|'*len(labels))
for k in keys:
    print('| %s | %s |' % (k, ' | '.join(str(round(float(rows[l].get(k,'nan')))) if k!='p99 ratio' and rows[l].get(k) else rows[l].get(k,'') for l in labels)))
