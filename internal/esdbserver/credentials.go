package esdbserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Secrets are the TLS certificate authority, server certificate and admin password the
// embedded server generates on its first start and keeps in the data directory (0600).
type Secrets struct {
	Dir      string
	Username string
	Password string
	CAFile   string
	CertFile string
	KeyFile  string
	CertPool *x509.CertPool
	Cert     tls.Certificate
}

// AdminUser is the user name of the generated credentials, as on EventStoreDB.
const AdminUser = "admin"

// EnsureSecrets loads the secrets from dir/esdb, creating what is missing. The server
// certificate is re-issued when it does not cover every host in hosts or nears expiry.
func EnsureSecrets(dir string, hosts []string) (*Secrets, error) {
	sdir := filepath.Join(dir, "esdb")
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", sdir, err)
	}
	s := &Secrets{
		Dir:      sdir,
		Username: AdminUser,
		CAFile:   filepath.Join(sdir, "ca.crt"),
		CertFile: filepath.Join(sdir, "server.crt"),
		KeyFile:  filepath.Join(sdir, "server.key"),
	}
	pwFile := filepath.Join(sdir, "admin.password")
	pw, err := os.ReadFile(pwFile)
	if errors.Is(err, fs.ErrNotExist) {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		pw = []byte(base64.RawURLEncoding.EncodeToString(buf))
		if err := writeSecret(pwFile, pw); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read admin password: %w", err)
	}
	s.Password = strings.TrimSpace(string(pw))

	caCert, caKey, err := ensureCA(sdir)
	if err != nil {
		return nil, err
	}
	s.CertPool = x509.NewCertPool()
	s.CertPool.AddCert(caCert)
	want := append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil || !covers(cert, want) {
		if err := issueServerCert(s.CertFile, s.KeyFile, caCert, caKey, want); err != nil {
			return nil, err
		}
		if cert, err = tls.LoadX509KeyPair(s.CertFile, s.KeyFile); err != nil {
			return nil, fmt.Errorf("load server certificate: %w", err)
		}
	}
	s.Cert = cert
	return s, nil
}

func writeSecret(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func ensureCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if pair, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if key, ok := pair.PrivateKey.(*ecdsa.PrivateKey); ok && pair.Leaf != nil {
			return pair.Leaf, key, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Gateledger embedded event store CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA certificate: %w", err)
	}
	if err := writePEM(keyPath, certPath, der, key); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func issueServerCert(certPath, keyPath string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "gateledger-eventstore"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("create server certificate: %w", err)
	}
	return writePEM(keyPath, certPath, der, key)
}

func writePEM(keyPath, certPath string, der []byte, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeSecret(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})); err != nil {
		return err
	}
	return writeSecret(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

// covers reports whether the certificate is valid for another 30 days for every host.
func covers(cert tls.Certificate, hosts []string) bool {
	leaf := cert.Leaf
	if leaf == nil || time.Until(leaf.NotAfter) < 30*24*time.Hour {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				return false
			}
		} else if h != "" && !slices.Contains(leaf.DNSNames, h) {
			return false
		}
	}
	return true
}
