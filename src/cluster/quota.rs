//! ResourceQuota admission: whether creating a pod would exceed its namespace's quota.
