NAME        
ROWS
 N  Obj     
 L  r0      
 L  r1      
 L  r2      
 L  r3      
 L  r4      
 L  r5      
 L  r6      
 L  r7      
 L  r8      
 L  r9      
 L  r10     
 L  r11     
 L  r12     
 L  r13     
 L  r14     
 L  r15     
 L  r16     
 L  r17     
 L  r18     
 L  r19     
 L  r20     
 L  r21     
 L  r22     
 L  r23     
 L  r24     
 L  r25     
 L  r26     
 L  r27     
 L  r28     
 L  r29     
 L  r30     
 L  r31     
 L  r32     
 L  r33     
 L  r34     
 L  r35     
 L  r36     
 L  r37     
 L  r38     
 L  r39     
 L  r40     
 L  r41     
 L  r42     
 L  r43     
 L  r44     
 L  r45     
 L  r46     
 L  r47     
 L  r48     
 L  r49     
 L  r50     
 L  r51     
 L  r52     
 L  r53     
 G  r54     
 L  r55     
COLUMNS
    MARK0000  'MARKER'                 'INTORG'
    c0        r1        -1
    c0        r2        -1
    c0        r55       236569.79154000001
    c1        r3        -1
    c1        r55       120532.88082000001
    c2        r5        -1
    c2        r55       86726.218184999991
    c3        r6        -1
    c3        r55       383973.31361730688
    c4        r7        -1
    c4        r55       53541.708659999997
    c5        r8        -1
    c5        r55       129982.55028
    c6        r9        -1
    c6        r55       40570.482001839366
    c7        r10       -1
    c7        r55       98032.13777999999
    c8        r12       -1
    c8        r13       -1
    c8        r55       380875.046011839
    c9        r14       -1
    c9        r55       74166.438240000003
    c10       r15       -1
    c10       r55       30459.530146166497
    c11       r16       -1
    c11       r55       184.61566610982831
    c12       r18       -1
    c12       r55       283815.31298709498
    c13       r19       -1
    c13       r55       1138.0252402015906
    c14       r20       -1
    c14       r55       141678.40218805769
    c15       r21       -1
    c15       r55       53299.312285325184
    c16       r22       -1
    c16       r55       89322.912719371321
    c17       r23       -1
    c17       r55       39489.132992151499
    c18       r25       -1
    c18       r55       249668.97376762042
    c19       r30       -1
    c19       r55       89403.385292509702
    c20       r31       -1
    c20       r55       28901.89848972491
    c21       r32       -1
    c21       r55       7750.7335188229126
    c22       r33       -1
    c22       r55       57982.853048411773
    c23       r34       -1
    c23       r35       -1
    c23       r55       308949.01202392642
    c24       r39       -1
    c24       r55       91013.289975000007
    c25       r42       -1
    c25       r55       12240.224330317804
    c26       r43       -1
    c26       r55       3354.5911537831448
    c27       r44       -1
    c27       r55       31444.333872063133
    c28       r45       -1
    c28       r55       293297.1763910079
    c29       r47       -1
    c29       r55       437214.11486281687
    c30       r49       -1
    c30       r55       31569.53705942148
    c31       r51       -1
    c31       r55       380791.27652913559
    c32       r52       -1
    c32       r55       26177.426339999998
    c33       r53       -1
    c33       r55       172067.60187730199
    c34       r0        -1
    c35       r4        -1
    c36       r11       -1
    c37       r17       -1
    c38       r29       -1
    c39       r1        -1
    c39       r55       30000
    c40       r12       -1
    c40       r55       30000
    c41       r27       -1
    c41       r55       30000
    c42       r34       -1
    c42       r55       30000
    c43       r36       -1
    c43       r55       30000
    c44       r40       -1
    c44       r55       30000
    c45       r45       -1
    c45       r46       -1
    c45       r55       400000
    c46       r49       -1
    c46       r50       -1
    c46       r55       456000
    c47       r27       -1
    c47       r28       -1
    c47       r53       -1
    c47       r55       572067.60187730193
    c48       r12       -1
    c48       r47       -1
    c48       r48       -1
    c48       r55       462000
    c49       r34       -1
    c49       r35       -1
    c49       r36       -1
    c49       r55       456000
    c50       r24       -1
    c50       r27       -1
    c50       r28       -1
    c50       r55       150000
    c51       r23       -1
    c51       r31       -1
    c51       r55       150000
    c52       r1        -1
    c52       r36       -1
    c52       r42       -1
    c52       r55       150000
    c53       r34       -1
    c53       r36       -1
    c53       r55       150000
    c54       r34       -1
    c54       r42       -1
    c54       r55       150000
    c55       r24       -1
    c55       r26       -1
    c55       r55       150000
    c56       r1        -1
    c56       r29       -1
    c56       r55       150000
    c57       r40       -1
    c57       r41       -1
    c57       r55       150000
    c58       r38       -1
    c58       r55       150000
    c59       r1        -1
    c59       r36       -1
    c59       r37       -1
    c59       r55       150000
    c60       r24       -1
    c60       r40       -1
    c60       r55       150000
    c61       r0        1
    c62       r1        1
    c62       r54       5
    c63       r2        1
    c64       r3        1
    c65       r4        1
    c66       r5        1
    c67       r6        1
    c68       r7        1
    c69       r8        1
    c70       r9        1
    c71       r10       1
    c72       r11       1
    c73       r12       1
    c73       r54       5
    c74       r13       1
    c75       r14       1
    c76       r15       1
    c77       r16       1
    c78       r17       1
    c79       r18       1
    c80       r19       1
    c81       r20       1
    c82       r21       1
    c83       r22       1
    c84       r23       1
    c85       r24       1
    c86       r25       1
    c87       r26       1
    c88       r27       1
    c88       r54       7.5
    c89       r28       1
    c90       r29       1
    c91       r30       1
    c92       r31       1
    c93       r32       1
    c94       r33       1
    c95       r34       1
    c95       r54       7.5
    c96       r35       1
    c97       r36       1
    c97       r54       7.5
    c98       r37       1
    c99       r38       1
    c100      r39       1
    c101      r40       1
    c101      r54       7.5
    c102      r41       1
    c103      r42       1
    c104      r43       1
    c105      r44       1
    c106      Obj       -6.2430000000000003
    c106      r45       1
    c107      Obj       -6.2430000000000003
    c107      r46       1
    c108      Obj       -7.2989999999999995
    c108      r47       1
    c109      Obj       -7.2989999999999995
    c109      r48       1
    c110      Obj       -6
    c110      r49       1
    c111      Obj       -6
    c111      r50       1
    c112      r51       1
    c113      r52       1
    c114      r53       1
    MARK0001  'MARKER'                 'INTEND'
RHS
    RHS_V     r54       39.999999960000004
    RHS_V     r55       573951.3978819889
BOUNDS
 FX BOUND     c0        0
 BV BOUND     c1      
 BV BOUND     c2      
 FX BOUND     c3        0
 BV BOUND     c4      
 BV BOUND     c5      
 BV BOUND     c6      
 BV BOUND     c7      
 FX BOUND     c8        0
 BV BOUND     c9      
 BV BOUND     c10     
 BV BOUND     c11     
 FX BOUND     c12       0
 BV BOUND     c13     
 BV BOUND     c14     
 BV BOUND     c15     
 BV BOUND     c16     
 BV BOUND     c17     
 FX BOUND     c18       0
 BV BOUND     c19     
 BV BOUND     c20     
 BV BOUND     c21     
 BV BOUND     c22     
 FX BOUND     c23       0
 BV BOUND     c24     
 BV BOUND     c25     
 BV BOUND     c26     
 BV BOUND     c27     
 BV BOUND     c28     
 FX BOUND     c29       0
 BV BOUND     c30     
 FX BOUND     c31       0
 BV BOUND     c32     
 BV BOUND     c33     
 BV BOUND     c34     
 BV BOUND     c35     
 BV BOUND     c36     
 BV BOUND     c37     
 BV BOUND     c38     
 BV BOUND     c39     
 BV BOUND     c40     
 BV BOUND     c41     
 BV BOUND     c42     
 BV BOUND     c43     
 BV BOUND     c44     
 BV BOUND     c45     
 BV BOUND     c46     
 FX BOUND     c47       0
 BV BOUND     c48     
 FX BOUND     c49       0
 BV BOUND     c50     
 BV BOUND     c51     
 BV BOUND     c52     
 BV BOUND     c53     
 BV BOUND     c54     
 BV BOUND     c55     
 BV BOUND     c56     
 BV BOUND     c57     
 BV BOUND     c58     
 BV BOUND     c59     
 BV BOUND     c60     
 BV BOUND     c61     
 BV BOUND     c62     
 BV BOUND     c63     
 BV BOUND     c64     
 BV BOUND     c65     
 BV BOUND     c66     
 BV BOUND     c67     
 BV BOUND     c68     
 BV BOUND     c69     
 BV BOUND     c70     
 BV BOUND     c71     
 BV BOUND     c72     
 BV BOUND     c73     
 BV BOUND     c74     
 BV BOUND     c75     
 BV BOUND     c76     
 BV BOUND     c77     
 BV BOUND     c78     
 BV BOUND     c79     
 BV BOUND     c80     
 BV BOUND     c81     
 BV BOUND     c82     
 BV BOUND     c83     
 BV BOUND     c84     
 BV BOUND     c85     
 BV BOUND     c86     
 BV BOUND     c87     
 BV BOUND     c88     
 BV BOUND     c89     
 BV BOUND     c90     
 BV BOUND     c91     
 BV BOUND     c92     
 BV BOUND     c93     
 BV BOUND     c94     
 BV BOUND     c95     
 BV BOUND     c96     
 BV BOUND     c97     
 BV BOUND     c98     
 BV BOUND     c99     
 BV BOUND     c100    
 BV BOUND     c101    
 BV BOUND     c102    
 BV BOUND     c103    
 BV BOUND     c104    
 BV BOUND     c105    
 BV BOUND     c106    
 BV BOUND     c107    
 BV BOUND     c108    
 BV BOUND     c109    
 BV BOUND     c110    
 BV BOUND     c111    
 BV BOUND     c112    
 BV BOUND     c113    
 BV BOUND     c114    
ENDATA
