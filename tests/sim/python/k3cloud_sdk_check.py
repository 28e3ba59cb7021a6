"""Drive the weft-sim K3Cloud simulator with the official, unmodified
Kingdee SDK (PyPI kingdee-cdp-webapi-sdk), which authenticates with the
signed X-Api/X-Kd headers.

Usage: k3cloud_sdk_check.py SERVER_URL ACCT_ID USER APP_ID APP_SECRET BILL_NO

Prints one JSON object with the SDK's replies: save, batch_save, query,
material.
"""

import json
import sys

from k3cloud_webapi_sdk.main import K3CloudApiSdk


def purchase_order(bill_no, material):
    return {
        "FBillNo": bill_no,
        "FDate": "2024-01-05 10:00:00",
        "FBillTypeID": {"FNUMBER": "CGDD01_SYS"},
        "FBusinessType": "CG",
        "FPurchaseOrgId": {"FNumber": "100"},
        "FSupplierId": {"FNumber": "0003"},
        "FPOOrderEntry": [
            {
                "FMaterialId": {"FNumber": material},
                "FQty": 10,
                "FPrice": 12.5,
                "FEntryTaxRate": 13,
                "FEntryNote": "来自官方SDK",
            }
        ],
    }


def main():
    server_url, acct_id, user, app_id, app_secret, bill_no = sys.argv[1:7]
    sdk = K3CloudApiSdk(server_url, timeout=30)
    sdk.InitConfig(acct_id, user, app_id, app_secret, server_url, lcid=2052, org_num=100)

    save = sdk.Save(
        "PUR_PurchaseOrder",
        {
            "Model": purchase_order(bill_no, "SKU00001"),
            "IsAutoSubmitAndAudit": "true",
            "NeedReturnFields": ["FBillNo", "FID"],
        },
    )
    batch_save = sdk.BatchSave(
        "PUR_PurchaseOrder",
        {"Model": [purchase_order(bill_no + "-B1", "SKU00002"), purchase_order(bill_no + "-B2", "NO-SUCH-SKU")]},
    )
    query = sdk.ExecuteBillQuery(
        {
            "FormId": "PUR_PurchaseOrder",
            "FieldKeys": "FID,FBillNo,FDocumentStatus",
            "FilterString": "FBillNo='%s'" % bill_no,
        }
    )
    material = sdk.ExecuteBillQuery(
        {
            "FormId": "BD_MATERIAL",
            "FieldKeys": "FNumber,FName",
            "FilterString": [
                {"Left": "", "FieldName": "FNumber", "Compare": "67", "Value": "SKU00001", "Right": "", "Logic": 0}
            ],
        }
    )
    print(
        json.dumps(
            {
                "save": json.loads(save),
                "batch_save": json.loads(batch_save),
                "query": json.loads(query),
                "material": json.loads(material),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
